// Two polls of the sessions → which appeared and which ended: what the
// daemon sends as `vpn-passthrough.session` events. A session is the same
// flow when its protocol, transport, both ends and ports (or Call ID) are.

import type { Session } from '../model.ts';

export function sessionKey(s: Session): string {
  return [s.protocol, s.transport, s.inside, s.inside_port ?? '', s.outside, s.outside_port ?? '', s.call_ids?.server ?? ''].join(' ');
}

export interface SessionChanges {
  appeared: Session[];
  ended: Session[];
}

export function diffSessions(before: readonly Session[], after: readonly Session[]): SessionChanges {
  const old = new Set(before.map(sessionKey));
  const now = new Set(after.map(sessionKey));

  return {
    appeared: after.filter((s) => !old.has(sessionKey(s))),
    ended: before.filter((s) => !now.has(sessionKey(s))),
  };
}
