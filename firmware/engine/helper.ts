// Is the PPTP conntrack helper in the kernel? OpenWrt ships it as a module
// (kmod-nf-nathelper-extra): loaded when /sys/module/nf_conntrack_pptp
// exists; we try to load it when it is not. A kernel with it built in has no
// /sys/module entry, so the kernel itself is asked last.

import type { HelperState } from '../core/model.ts';
import type { Platform } from '../platform/platform.ts';
import { kernelHasPptpHelper } from './nft.ts';

export const PPTP_MODULE = '/sys/module/nf_conntrack_pptp';

export async function pptpHelperState(platform: Platform): Promise<HelperState> {
  if (await platform.exists(PPTP_MODULE)) return 'loaded';

  // OpenWrt's modprobe is kmodloader; a missing one (or module) is fine here.
  await platform.run(['modprobe', 'nf_conntrack_pptp']).catch(() => undefined);
  if (await platform.exists(PPTP_MODULE)) return 'loaded';

  if (!(await kernelHasPptpHelper(platform))) return 'missing';

  return (await platform.exists(PPTP_MODULE)) ? 'loaded' : 'builtin';
}
