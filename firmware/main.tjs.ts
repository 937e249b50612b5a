// Entry point on the router: `tjs run /usr/share/vpn-passthrough/vpn-passthrough.js <command>`.

import { main } from './cli/main.ts';
import { errorMessage } from './platform/platform.ts';
import { tjsPlatform } from './platform/tjs.ts';

const platform = tjsPlatform();

main(platform).then(
  (code) => platform.exit(code),
  (e: unknown) => {
    platform.err(`vpn-passthrough: ${errorMessage(e)}`);
    platform.exit(1);
  },
);
