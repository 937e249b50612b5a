// netifd's live interfaces for one-shot commands: `ubus call
// network.interface dump` over ubusd's socket when there is one (on the
// router), nothing otherwise (then /etc/config/network alone names the
// devices). The connection is made only if the engine asks, and closed after.

import type { NetifdDump } from '../engine/engine.ts';
import type { Platform } from '../platform/platform.ts';
import { connect, DEFAULT_SOCKET } from '../ubus/client.ts';
import { flagValue, type Args } from './args.ts';

export function netifd(platform: Platform, args: Args): NetifdDump {
  const socket = flagValue(args, 'socket', DEFAULT_SOCKET);

  return async () => {
    if (!(await platform.exists(socket))) return null;

    const ubus = await connect({ connect: (path) => platform.connect(path), path: socket, reconnect: false, timeout: 3000 });

    try {
      return await ubus.call('network.interface', 'dump');
    } finally {
      ubus.close();
    }
  };
}
