import { devTokenFor, roomFromPath } from './page-helpers.ts';

// The watch page starts its token request first and loads its code meanwhile (watch-page.ts and the
// SDK: the page's heaviest script), so the connection does not wait for both one after the other.
performance.mark('onstage:page-script');
const room = roomFromPath();
const firstToken = devTokenFor(room, 'viewer');
firstToken.catch(() => undefined); // the page reports it when it connects
const { watchPage } = await import('./watch-page.ts');
await watchPage(room, firstToken);
