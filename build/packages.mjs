// What goes into each package: control fields and files. The same facts
// drive our .ipk builder (build/ipk.mjs); package/*/Makefile says them again
// for the OpenWrt SDK, and test/build/packages.test.ts checks the two agree.

export const MAINTAINER = 'vpn-passthrough maintainers <vpn-passthrough@users.noreply.github.com>';
export const URL = 'https://github.com/vpn-passthrough/vpn-passthrough';
export const LICENSE = 'GPL-2.0-only';
export const SOURCE = 'feeds/vpn_passthrough/vpn-passthrough';

/** The bundle as installed on the router. */
export const BUNDLE_PATH = '/usr/share/vpn-passthrough/vpn-passthrough.js';

/**
 * files: [path on the router, source (relative to the repository, or
 * 'bundle'), mode]. Directories are implied and get 0755.
 */
export const PACKAGES = [
  {
    name: 'vpn-passthrough',
    section: 'net',
    depends: ['txiki', 'kmod-nf-nathelper-extra', 'nftables'],
    description: [
      'VPN passthrough for IPsec, PPTP and L2TP: switch each protocol on or off',
      'for clients behind the router, with explicit conntrack helpers (PPTP',
      'Call-ID NAT) and drops in its own nftables table beside firewall4.',
      'Configured with UCI (/etc/config/vpn-passthrough), ubus and the',
      'vpn-passthrough command. Runs on txiki.js (tjs).',
    ],
    conffiles: ['/etc/config/vpn-passthrough'],
    files: [
      [BUNDLE_PATH, 'bundle', 0o644],
      ['/usr/share/vpn-passthrough/firewall.include', 'files/usr/share/vpn-passthrough/firewall.include', 0o644],
      ['/usr/bin/vpn-passthrough', 'files/usr/bin/vpn-passthrough', 0o755],
      ['/etc/init.d/vpn-passthrough', 'files/etc/init.d/vpn-passthrough', 0o755],
      ['/etc/config/vpn-passthrough', 'files/etc/config/vpn-passthrough', 0o600],
      ['/etc/uci-defaults/90-vpn-passthrough', 'files/etc/uci-defaults/90-vpn-passthrough', 0o644],
      ['/usr/share/nftables.d/table-post/30-vpn-passthrough.nft', 'files/usr/share/nftables.d/table-post/30-vpn-passthrough.nft', 0o644],
      ['/usr/share/nftables.d/chain-pre/forward/30-vpn-passthrough.nft', 'files/usr/share/nftables.d/chain-pre/forward/30-vpn-passthrough.nft', 0o644],
    ],
  },
  {
    name: 'luci-app-vpn-passthrough',
    section: 'luci',
    depends: ['luci-base', 'vpn-passthrough'],
    description: ['LuCI page (Network > VPN Passthrough) for vpn-passthrough: switches, allowed hosts, live status.'],
    conffiles: [],
    files: [
      ['/www/luci-static/resources/view/vpn-passthrough/overview.js', 'files/www/luci-static/resources/view/vpn-passthrough/overview.js', 0o644],
      ['/usr/share/luci/menu.d/luci-app-vpn-passthrough.json', 'files/usr/share/luci/menu.d/luci-app-vpn-passthrough.json', 0o644],
      ['/usr/share/rpcd/acl.d/luci-app-vpn-passthrough.json', 'files/usr/share/rpcd/acl.d/luci-app-vpn-passthrough.json', 0o644],
    ],
  },
];
