import { OnstageClient, OnstageRequestError, type ChatMessage } from '@onstage/client-sdk';

// Which show, on which Onstage server, with which viewer token. A real app gets the token from its
// own backend (see the Onstage README, "Tokens"); this example takes it from the address:
//   /?server=https://onstage.example.com&room=demo&token=<a viewer token for the room>
const params = new URLSearchParams(location.search);
const server = params.get('server') ?? location.origin;
const room = params.get('room') ?? 'demo';
const token = params.get('token') ?? '';

const video = document.querySelector<HTMLVideoElement>('#show')!;
const status = document.querySelector<HTMLElement>('#status')!;
const chat = document.querySelector<HTMLOListElement>('#chat')!;

const client = new OnstageClient({ url: server, token });
client.on('live', () => (status.textContent = 'Live'));
client.on('ended', (reason) => (status.textContent = `The show ended (${reason})`));
client.on('mode', (mode) => mode === 'hls' && client.attachHls(video));
client.on('audience', (viewers) => (document.title = `${viewers} watching · ${room}`));
client.on('chat', (message: ChatMessage) => {
  const item = document.createElement('li');
  item.textContent = `${message.displayName}: ${message.text}`;
  chat.append(item);
});
// For the example's test: the first frame shown.
video.requestVideoFrameCallback(() => (document.body.dataset['firstFrame'] = String(performance.now())));

try {
  video.srcObject = await client.watch(room);
  status.textContent = client.mode === 'webrtc' ? 'Watching (WebRTC)' : 'Watching (HLS)';
} catch (err) {
  status.textContent = err instanceof OnstageRequestError ? `Cannot watch: ${err.code}` : `Cannot watch: ${String(err)}`;
}
