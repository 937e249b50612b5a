// Which of the sessions' columns this router can fill: traffic needs
// conntrack accounting (nf_conntrack_acct), age needs conntrack timestamps
// (nf_conntrack_timestamp). A column is shown when the kernel keeps it now
// or some session has it (set before it was switched off); otherwise it is
// left out and the view says which sysctl would fill it.

import type { Session, SessionsReport } from '../model.ts';

export interface Columns {
  traffic: boolean;
  age: boolean;
  /** The columns left out, with the sysctl that would fill them for new connections. */
  hidden: { column: 'traffic' | 'age'; sysctl: string }[];
}

export const SYSCTL = { traffic: 'net.netfilter.nf_conntrack_acct', age: 'net.netfilter.nf_conntrack_timestamp' } as const;

export function columns(report: Pick<SessionsReport, 'sessions' | 'conntrack'>): Columns {
  const has = (f: (s: Session) => boolean) => report.sessions.some(f);
  const traffic = report.conntrack?.accounting === true || has((s) => s.bytes !== null);
  const age = report.conntrack?.timestamps === true || has((s) => s.age !== null);

  return {
    traffic,
    age,
    hidden: [...(traffic ? [] : [{ column: 'traffic' as const, sysctl: SYSCTL.traffic }]), ...(age ? [] : [{ column: 'age' as const, sysctl: SYSCTL.age }])],
  };
}

/** Whether a session's protocol has a conntrack helper at all: only PPTP over IPv4. */
export function helperApplies(s: Pick<Session, 'protocol' | 'inside'>): boolean {
  return s.protocol === 'pptp' && !s.inside.includes(':');
}
