#!/usr/bin/env python3
"""The stage mixer: one long-lived GStreamer pipeline per show that composites the stage's cameras
and mixes its microphones into the HLS ladder's encodings, while sources come and go.

Why a separate process in Python: FFmpeg's filters cannot take or drop an input while running (and
stall when one stops), so every stage change used to restart FFmpeg. GStreamer's compositor and
audiomixer are live aggregators with request pads: they produce on the clock whether or not a
source sends, and a source can be added or removed while they run. PyGObject is GStreamer's
best-kept binding; Node has none that installs offline.

Protocol (the recorder's src/stage-mixer.ts is the other side):
  argv[1]  JSON: {"renditions": [{"width", "height", "videoKbps", "audioKbps"}], "fps", "keyframeFrames"}
  stdin    JSON lines, one command each:
             {"op": "add", "id", "kind": "video"|"audio", "port", "codec": {"mimeType", "payloadType", "clockRate"}}
             {"op": "remove", "id"}
             {"op": "layout", "cells": [{"id", "x", "y", "w", "h"}]}   (videos not listed are hidden)
           end of stdin: finish (end of stream flushed through the encoders), then exit.
  stdout   MPEG-TS: per rendition i, video stream i (H.264) and audio stream i (AAC).
  fd 3     JSON lines of events: {"event": "flowing", "id"} when a source's first decoded
           media reaches the mixer; {"event": "error", "message"}.
"""
import json
import os
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst  # noqa: E402

# Room for a new source's jitter buffer and decoder before the mixers give up on a frame.
MIXER_LATENCY_NS = 150 * Gst.MSECOND
JITTER_MS = 60
FINISH_TIMEOUT_S = 5

DEPAYLOAD = {
    'video/vp8': 'rtpvp8depay ! vp8dec',
    'video/vp9': 'rtpvp9depay ! vp9dec',
    'video/h264': 'rtph264depay ! avdec_h264',
    'audio/opus': 'rtpopusdepay ! opusdec plc=true',
}


def log(message):
    print(f'stage-mixer: {message}', file=sys.stderr, flush=True)


class StageMixer:
    def __init__(self, config):
        self.events = os.fdopen(3, 'w', buffering=1)
        self.sources = {}
        self.partial = b''
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.parse_launch(self.describe(config))
        self.video_mixer = self.pipeline.get_by_name('vmix')
        self.audio_mixer = self.pipeline.get_by_name('amix')
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect('message', self.on_message)

    @staticmethod
    def describe(config):
        top = config['renditions'][0]
        fps = config['fps']
        gop = config['keyframeFrames']
        parts = [
            # Black canvas and silence, live: the mixers produce on the clock even with nobody on stage.
            f'compositor name=vmix background=black ignore-inactive-pads=true latency={MIXER_LATENCY_NS} '
            f'! video/x-raw,format=I420,width={top["width"]},height={top["height"]},framerate={fps}/1 ! tee name=vt',
            f'videotestsrc is-live=true pattern=black ! video/x-raw,width=16,height=16,framerate={fps}/1 ! vmix.sink_0',
            f'audiomixer name=amix ignore-inactive-pads=true latency={MIXER_LATENCY_NS} '
            '! audio/x-raw,format=S16LE,rate=48000,channels=2 ! tee name=at',
            'audiotestsrc is-live=true wave=silence ! audio/x-raw,rate=48000,channels=2 ! amix.',
            'matroskamux name=mux streamable=true ! fdsink fd=1 sync=false',
        ]
        for r in config['renditions']:
            kbps = r['videoKbps']
            parts.append(
                f'vt. ! queue max-size-time=1000000000 ! videoscale ! video/x-raw,width={r["width"]},height={r["height"]} '
                f'! x264enc tune=zerolatency speed-preset=superfast bitrate={kbps} key-int-max={gop} '
                f'option-string="scenecut=0:keyint-min={gop}:vbv-maxrate={kbps}:vbv-bufsize={kbps * 2}" '
                '! video/x-h264,profile=main ! h264parse config-interval=-1 ! queue ! mux.'
            )
            parts.append(
                f'at. ! queue max-size-time=1000000000 ! audioconvert ! avenc_aac bitrate={r["audioKbps"] * 1000} '
                '! aacparse ! queue ! mux.'
            )
        return ' '.join(parts)

    def emit(self, event):
        self.events.write(json.dumps(event) + '\n')

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP, self.on_stdin)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.finish)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.finish)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)

    def on_stdin(self, _channel, _condition):
        chunk = os.read(0, 65536)
        if not chunk:
            self.finish()
            return False
        *lines, self.partial = (self.partial + chunk).split(b'\n')
        for line in lines:
            try:
                command = json.loads(line)
                getattr(self, 'op_' + command['op'])(command)
            except Exception as err:  # a bad command is reported, never fatal to the show
                self.emit({'event': 'error', 'message': f'{type(err).__name__}: {err}'})
        return True

    def op_add(self, c):
        if c['id'] in self.sources:
            raise ValueError(f'source {c["id"]} exists')
        codec = c['codec']
        mime = codec['mimeType'].lower()
        if mime not in DEPAYLOAD:
            raise ValueError(f'unsupported codec {codec["mimeType"]}')
        kind = c['kind']
        caps = (
            f'application/x-rtp,media={kind},clock-rate={codec["clockRate"]},'
            f'encoding-name={mime.split("/")[1].upper()},payload={codec["payloadType"]}'
        )
        tail = 'videoconvert' if kind == 'video' else 'audioconvert ! audioresample'
        source = Gst.parse_bin_from_description(
            f'udpsrc address=127.0.0.1 port={c["port"]} caps="{caps}" buffer-size=2097152 '
            f'! rtpjitterbuffer latency={JITTER_MS} drop-on-latency=true ! {DEPAYLOAD[mime]} ! {tail} ! queue',
            True,
        )
        mixer = self.video_mixer if kind == 'video' else self.audio_mixer
        self.pipeline.add(source)
        pad = mixer.request_pad_simple('sink_%u')
        if kind == 'video':
            # Hidden until a layout places it; scaled into its cell with its own aspect ratio.
            pad.set_property('alpha', 0.0)
            pad.set_property('sizing-policy', 'keep-aspect-ratio')
        source.get_static_pad('src').link(pad)
        source_id = c['id']

        def first_buffer(_pad, _info):
            GLib.idle_add(self.emit, {'event': 'flowing', 'id': source_id})
            return Gst.PadProbeReturn.REMOVE

        pad.add_probe(Gst.PadProbeType.BUFFER, first_buffer)
        self.sources[source_id] = (source, pad, mixer)
        source.sync_state_with_parent()

    def op_remove(self, c):
        source, pad, mixer = self.sources.pop(c['id'])
        source.set_state(Gst.State.NULL)
        source.get_static_pad('src').unlink(pad)
        mixer.release_request_pad(pad)
        self.pipeline.remove(source)

    def op_layout(self, c):
        placed = {cell['id']: cell for cell in c['cells']}
        for source_id, (_source, pad, mixer) in self.sources.items():
            if mixer is not self.video_mixer:
                continue
            cell = placed.get(source_id)
            if cell is None:
                pad.set_property('alpha', 0.0)
                continue
            for prop, key in (('xpos', 'x'), ('ypos', 'y'), ('width', 'w'), ('height', 'h')):
                pad.set_property(prop, cell[key])
            pad.set_property('alpha', 1.0)

    def finish(self):
        # End of stream through every branch: the encoders and the muxer flush what they hold.
        log('finishing')
        for source, _pad, _mixer in self.sources.values():
            source.send_event(Gst.Event.new_eos())
        self.pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(FINISH_TIMEOUT_S, self.loop.quit)
        return False

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.EOS:
            self.loop.quit()
        elif message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            name = message.src.get_path_string() if message.src else '?'
            log(f'error from {name}: {err.message} ({debug})')
            # A source's failure (say a codec it cannot decode) is that source's; the mixers' is fatal.
            for source_id, (source, _pad, _mixer) in list(self.sources.items()):
                if message.src is source or (message.src and message.src.has_as_ancestor(source)):
                    self.emit({'event': 'error', 'id': source_id, 'message': err.message})
                    self.op_remove({'id': source_id})
                    return
            self.emit({'event': 'error', 'message': err.message})
            self.loop.quit()


def main():
    Gst.init(None)
    StageMixer(json.loads(sys.argv[1])).run()


if __name__ == '__main__':
    main()
