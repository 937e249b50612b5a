// Runs a LuCI view outside a browser, the way LuCI loads it: luci.js's
// require() reads the leading 'require x [as y]' strings and compiles the
// file as `function(window, document, L, x, ...) { source }`. Each required
// class is a recording stand-in that exposes only the public member names of
// LuCI's real class (openwrt/luci modules/luci-base/htdocs/luci-static/
// resources/{luci,form,rpc,uci,ui,network}.js, read for this list); touching
// any other name throws. rpc calls are answered by the test and recorded with
// the phase they happened in (load, poll or a user action), which is what
// the ACL test compares with the acl.d file.

export const VIEW = 'files/www/luci-static/resources/view/vpn-passthrough/overview.js';

/** Public API of the LuCI classes a view may require, by class name. */
export const LUCI_API: Record<string, readonly string[]> = {
  // luci.js: the view class and the global L (LuCI.prototype).
  view: ['extend'],
  L: ['bind', 'resolveDefault', 'isObject', 'isArguments', 'toArray', 'sortedKeys', 'sortedArray', 'naturalCompare', 'url', 'resource', 'media', 'location', 'path', 'fspath', 'raise', 'error', 'require', 'hasSystemFeature', 'hasViewPermission', 'env', 'get', 'post', 'poll', 'stop', 'halt', 'run', 'dom', 'view', 'Poll', 'Class', 'Request', 'ui', 'uci', 'rpc', 'form', 'network'],
  poll: ['add', 'remove', 'start', 'stop', 'active'],
  dom: ['elem', 'parse', 'matches', 'parent', 'append', 'content', 'attr', 'create', 'data', 'bindClassInstance', 'findClassInstance', 'callClassMethod', 'isEmpty'],
  // rpc.js
  rpc: ['list', 'declare', 'getSessionID', 'setSessionID', 'getBaseURL', 'setBaseURL', 'getStatusText', 'addInterceptor', 'removeInterceptor'],
  // uci.js
  uci: ['createSID', 'resolveSID', 'load', 'unload', 'add', 'clone', 'remove', 'sections', 'get', 'set', 'unset', 'get_first', 'set_first', 'unset_first', 'move', 'save', 'apply', 'changes'],
  // ui.js
  ui: ['addNotification', 'addTimeLimitedNotification', 'showModal', 'hideModal', 'showIndicator', 'hideIndicator', 'createHandlerFn', 'itemlist', 'pingDevice', 'awaitReconnect', 'uploadFile', 'instantiateView', 'tabs', 'changes', 'menu', 'AbstractElement', 'Checkbox', 'ComboButton', 'Combobox', 'Dropdown', 'DynamicList', 'FileUpload', 'Hiddenfield', 'Select', 'Textarea', 'Textfield'],
  // network.js (the Network class) and the Hosts it returns.
  network: ['prefixToMask', 'maskToPrefix', 'formatWifiEncryption', 'flushCache', 'getProtocol', 'getProtocols', 'registerProtocol', 'registerPatternVirtual', 'registerErrorCode', 'addNetwork', 'getNetwork', 'getNetworks', 'deleteNetwork', 'renameNetwork', 'getDevice', 'getDevices', 'isIgnoredDevice', 'getWifiDevice', 'getWifiDevices', 'getWifiNetwork', 'getWifiNetworks', 'addWifiNetwork', 'deleteWifiNetwork', 'getStatusByRoute', 'getStatusByAddress', 'getWANNetworks', 'getWAN6Networks', 'getSwitchTopologies', 'instantiateNetwork', 'instantiateDevice', 'instantiateWifiNetwork', 'getIfnameOf', 'getDSLModemType', 'getHostHints'],
  Hosts: ['getHostnameByMACAddr', 'getIPAddrByMACAddr', 'getIP6AddrByMACAddr', 'getHostnameByIPAddr', 'getMACAddrByIPAddr', 'getHostnameByIP6Addr', 'getMACAddrByIP6Addr', 'getMACHints'],
  // form.js: the classes, then the members of Map, of sections and of options.
  form: ['Map', 'JSONMap', 'AbstractSection', 'AbstractValue', 'TypedSection', 'TableSection', 'GridSection', 'NamedSection', 'Value', 'DynamicList', 'ListValue', 'RichListValue', 'RangeSliderValue', 'Flag', 'MultiValue', 'TextValue', 'DummyValue', 'Button', 'HiddenValue', 'FileUpload', 'SectionValue'],
  'form.Map': ['findElements', 'findElement', 'chain', 'section', 'load', 'parse', 'save', 'reset', 'render', 'lookupOption', 'readonly', 'title', 'description', 'tabbed', 'config'],
  'form.Section': ['option', 'tab', 'taboption', 'cfgsections', 'filter', 'load', 'parse', 'render', 'map', 'title', 'description', 'addremove', 'anonymous', 'optional', 'rowcolors', 'tabbed', 'uciconfig', 'sectiontitle', 'modaltitle', 'nodescriptions', 'sortable', 'extedit', 'max_cols', 'addbtntitle', 'handleAdd', 'handleRemove', 'renderSectionPlaceholder'],
  'form.Option': ['value', 'depends', 'cfgvalue', 'formvalue', 'textvalue', 'write', 'remove', 'validate', 'getUIElement', 'isActive', 'load', 'parse', 'rmempty', 'optional', 'default', 'datatype', 'placeholder', 'retain', 'readonly', 'editable', 'modalonly', 'width', 'title', 'description', 'cast', 'size', 'widget', 'enabled', 'disabled', 'inputtitle', 'inputstyle', 'onclick', 'rawhtml', 'transformChoices', 'keylist', 'vallist'],
};

type Fn = (...args: any[]) => any;

/** rpc.js getStatusText(). */
const STATUS_TEXT: Record<number, string> = { 0: 'Command OK', 1: 'Invalid command', 2: 'Invalid argument', 3: 'Method not found', 4: 'Resource not found', 5: 'No data received', 6: 'Permission denied', 7: 'Request timeout', 8: 'Not supported', 9: 'Unspecified error', 10: 'Connection lost' };

/** A stand-in for a DOM node, enough for E(), dom.content() and walking. */
export class El {
  children: El[] = [];
  text?: string;

  constructor(
    readonly tag: string,
    readonly attrs: Record<string, unknown> = {},
  ) {}

  append(children: unknown): void {
    if (children == null) return;
    for (const c of Array.isArray(children) ? children : [children]) {
      if (c == null) continue;
      // LuCI's dom.append() takes nested arrays too.
      if (Array.isArray(c)) {
        this.append(c);
        continue;
      }
      if (c instanceof El && c.tag === '#fragment') this.children.push(...c.children);
      else this.children.push(c instanceof El ? c : Object.assign(new El('#text'), { text: String(c) }));
    }
  }

  /** Every node, depth first. */
  *walk(): Generator<El> {
    yield this;
    for (const c of this.children) yield* c.walk();
  }

  get textContent(): string {
    return this.text ?? this.children.map((c) => c.textContent).join('');
  }

  find(pred: (e: El) => boolean): El[] {
    return [...this.walk()].filter(pred);
  }
}

// LuCI's dom.create: E(tag, attrs?, children?), E([nodes]) makes a fragment.
export function E(tag: string | unknown[], attrs?: unknown, children?: unknown): El {
  if (attrs == null || typeof attrs !== 'object' || Array.isArray(attrs) || attrs instanceof El) [children, attrs] = [attrs, {}];
  const node = Array.isArray(tag) ? new El('#fragment') : new El(tag, attrs as Record<string, unknown>);

  node.append(Array.isArray(tag) ? tag : children);

  return node;
}

/** LuCI's String.prototype.format, for the conversions views commonly use. */
function format(this: string, ...args: unknown[]): string {
  let i = 0;

  return this.replace(/%(%|s|d|(?:\.(\d+))?f)/g, (_m, conv: string, prec?: string) => {
    if (conv === '%') return '%';
    const v = args[i++];

    if (conv === 's') return String(v ?? '');
    if (conv === 'd') return String(Math.trunc(Number(v)) || 0);

    return Number(v).toFixed(prec ? Number(prec) : 6);
  });
}

/** Wraps obj so that reading or writing a name outside `api` throws. */
function guard<T extends object>(what: string, obj: T, api: readonly string[]): T {
  return new Proxy(obj, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || prop === 'then' || prop === 'constructor' || prop === 'toJSON') return Reflect.get(target, prop, receiver);
      if (!api.includes(prop)) throw new TypeError(`${what}.${prop} is not part of LuCI's public API`);
      if (!(prop in target)) throw new TypeError(`${what}.${prop} is LuCI API but not emulated by this test`);
      const value = Reflect.get(target, prop, receiver);

      // Methods run on the stand-in itself, whose own fields are not API.
      return typeof value === 'function' && !/^[A-Z]/.test(prop) ? value.bind(target) : value;
    },
    set(target, prop, value, receiver) {
      if (typeof prop === 'string' && !api.includes(prop)) throw new TypeError(`${what}.${prop} = ... : not a property of LuCI's ${what}`);

      return Reflect.set(target, prop, value, receiver);
    },
  });
}

export interface Call {
  object: string;
  method: string;
  args: Record<string, unknown>;
  phase: string;
  /** Made by a LuCI class on the view's behalf (network), not declared by the view. */
  via?: string;
}

export interface OptionTrace {
  class: string;
  name: string;
  title?: string;
  description?: string;
  props: Record<string, unknown>;
  choices: [string, string][];
  depends: unknown[][];
}

export interface SectionTrace {
  class: string;
  args: unknown[];
  options: OptionTrace[];
  custom?: Fn;
}

/** A ubus reply as rpcd gives it: data (status 0), a bare numeric status
 * code (4 = NOT_FOUND ...), or a status WITH data (ubusReply) — a daemon
 * refusing says why in data sent before its error status, and uhttpd then
 * answers {"result": [status, data]}. A throw stands for a JSON-RPC error
 * (no access: -32002, no such object: -32000). */
export type Ubus = (object: string, method: string, args: Record<string, unknown>) => unknown;

/** A reply carrying both an error status and data, as the daemon refuses. */
export class UbusReply {
  constructor(
    readonly status: number,
    readonly data?: unknown,
  ) {}
}

export const ubusReply = (status: number, data?: unknown) => new UbusReply(status, data);

/** LuCI's L.raise(): the message, then the stack, one "  at ..." line a frame. */
export function raised(message: string): Error {
  return new Error(`${message}\n  at ClassConstructor.handleCallReply (http://192.168.1.1/luci-static/resources/rpc.js:94:7)`);
}

/** A LuCI ui widget the view made (ui.Textfield, ui.Select, ui.DynamicList, ui.Checkbox). */
export interface WidgetTrace {
  class: string;
  value: unknown;
  choices?: unknown;
  options: Record<string, unknown>;
  /** What the user typed: the test sets it, getValue() returns it. */
  setValue(v: unknown): void;
}

export interface HostHint {
  mac: string;
  name?: string;
  ipv4?: string;
  ipv6?: string;
}

export class Luci {
  phase = 'load';
  readonly calls: Call[] = [];
  readonly declared: { object: string; method: string; params?: string[]; reject?: boolean }[] = [];
  readonly uciCalls: { method: string; config: string; phase: string }[] = [];
  readonly maps: { config: string; title?: string; description?: string; sections: SectionTrace[]; readonly?: boolean; resets: number }[] = [];
  readonly polls: { fn: Fn; interval: number }[] = [];
  readonly notifications: El[] = [];
  /** The dialog ui.showModal opened (null once hidden). */
  modal: El | null = null;
  readonly widgets: WidgetTrace[] = [];
  readonly translated = new Set<string>();
  readonly modules: Record<string, unknown>;

  constructor(
    private readonly ubus: Ubus,
    private readonly hosts: HostHint[] = [],
    private readonly options: { readonly?: boolean; mark?: boolean } = {},
  ) {
    this.modules = this.makeModules();
  }

  /** _(): records the msgid; marks it ⟦…⟧ when asked, to spot untranslated text. */
  readonly _ = (s: string): string => {
    this.translated.add(s);

    return this.options.mark ? `⟦${s}⟧` : s;
  };

  /** N_(n, singular, plural): LuCI's plural forms (English rule: n == 1). */
  readonly N_ = (n: number, singular: string, plural: string): string => {
    if (typeof n !== 'number' || typeof singular !== 'string' || typeof plural !== 'string') throw new TypeError('N_(count, singular, plural)');
    const chosen = n === 1 ? singular : plural;

    // The template holds the pair under the singular msgid.
    this.translated.add(singular);

    return this.options.mark ? `⟦${chosen}⟧` : chosen;
  };

  private makeModules(): Record<string, unknown> {
    const luci = this;

    const rpc = {
      declare(o: { object: string; method: string; params?: string[]; expect?: Record<string, unknown>; reject?: boolean }) {
        luci.declared.push({ object: o.object, method: o.method, params: o.params, reject: o.reject });

        return (...args: unknown[]) => {
          const params: Record<string, unknown> = {};

          (o.params ?? []).forEach((p, i) => (params[p] = args[i]));
          luci.calls.push({ object: o.object, method: o.method, args: params, phase: luci.phase });

          return Promise.resolve()
            .then(() => luci.ubus(o.object, o.method, params))
            .catch((e: unknown) => {
              throw raised(`RPC call to ${o.object}/${o.method} failed with error -32002: ${(e as Error).message}`);
            })
            .then((reply) => {
              // uhttpd's {"result": [status, data?]} and rpc.js handleCallReply:
              // reject raises on a non-zero status; otherwise the data when
              // there is some, else the bare status.
              const result = reply instanceof UbusReply ? (reply.data === undefined ? [reply.status] : [reply.status, reply.data]) : typeof reply === 'number' ? [reply] : [0, reply];

              if (o.reject && result[0] !== 0) throw raised(`RPC call to ${o.object}/${o.method} failed with ubus code ${result[0]}: ${STATUS_TEXT[result[0] as number] ?? 'Unknown error'}`);
              let ret = result.length > 1 ? result[1] : result[0];

              for (const key in o.expect ?? {}) {
                if (ret != null && key !== '') ret = (ret as Record<string, unknown>)[key];
                if (ret == null || Object.prototype.toString.call(ret) !== Object.prototype.toString.call(o.expect![key])) ret = o.expect![key];
                break;
              }

              return ret;
            });
        };
      },
    };

    const uci = {
      load: (config: string) => (luci.uciCalls.push({ method: 'load', config, phase: luci.phase }), Promise.resolve()),
      unload: (config: string) => void luci.uciCalls.push({ method: 'unload', config, phase: luci.phase }),
      get: (config: string) => void luci.uciCalls.push({ method: 'get', config, phase: luci.phase }),
    };

    const poll = { add: (fn: Fn, interval: number) => (luci.polls.push({ fn, interval }), true) };

    /** The elements ui.js renders, with its ids: the frame gets options.id,
     * the input inside it widget.<id> (a checkbox: a random id and
     * data-widget-id). A DynamicList with choices (any, even an empty
     * list) is a dropdown (ui.Combobox), without (null) a text input. */
    function markup(cls: string, id: string | undefined, choices: unknown): El {
      const wid = id ? `widget.${id}` : null;

      switch (cls) {
        case 'Checkbox': {
          const cb = `cb${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')}`;

          return E('div', { id, 'class': 'cbi-checkbox' }, [E('input', { id: cb, type: 'checkbox', 'data-widget-id': wid }), E('label', { 'for': cb })]);
        }
        case 'Select':
          return E('div', { id }, E('select', { id: wid, 'class': 'cbi-input-select' }));
        case 'DynamicList':
          return E('div', { id, 'class': 'cbi-dynlist' }, E('div', { 'class': 'add-item control-group' }, choices
            ? E('div', { id, 'class': 'cbi-dropdown' })
            : [E('input', { id: wid, type: 'text', 'class': 'cbi-input-text' }), E('div', { 'class': 'btn cbi-button cbi-button-add' }, '+')]));
        default:
          return E('div', { id }, E('input', { id: wid, type: 'text', 'class': 'cbi-input-text' }));
      }
    }

    function widget(cls: string, withChoices: boolean) {
      return function (this: unknown, value: unknown, ...rest: unknown[]) {
        const options = ((withChoices ? rest[1] : rest[0]) ?? {}) as Record<string, unknown>;
        let current = value;
        const trace: WidgetTrace = { class: cls, value, ...(withChoices ? { choices: rest[0] } : {}), options, setValue: (v) => void (current = v) };

        luci.widgets.push(trace);

        return { render: () => markup(cls, options.id as string | undefined, rest[0]), getValue: () => current, setValue: trace.setValue };
      };
    }

    const dom = {
      content: (node: El, children: unknown) => {
        node.children = [];
        node.append(children);

        return node;
      },
      create: E,
    };

    const ui = {
      addNotification: (title: unknown, children: unknown) => {
        const n = E('div', {}, [title, children]);

        luci.notifications.push(n);

        return n;
      },
      // ui.js: a handler that calls ctx[fn](...args, ev).
      createHandlerFn: (ctx: Record<string, Fn>, fn: string | Fn, ...args: unknown[]) => {
        const f = typeof fn === 'string' ? ctx[fn] : fn;

        if (typeof f !== 'function') throw new TypeError(`createHandlerFn: ${String(fn)} is not a method`);

        return (ev: unknown) => f.call(ctx, ...args, ev);
      },
      // ui.js showModal(title, children): one dialog at a time.
      showModal: (title: unknown, children: unknown) => (luci.modal = E('div', { 'class': 'modal' }, [E('h4', {}, title), ...(Array.isArray(children) ? children : [children])])),
      hideModal: () => void (luci.modal = null),
      // The widgets: constructor (value, [choices,] options), render(), getValue().
      Textfield: widget('Textfield', false),
      Checkbox: widget('Checkbox', false),
      Select: widget('Select', true),
      DynamicList: widget('DynamicList', true),
    };

    const hosts = guard('Hosts', {
      getMACHints: () => luci.hosts.map((h) => [h.mac, h.name ?? h.ipv4 ?? h.ipv6]).sort(),
      getHostnameByMACAddr: (mac: string) => luci.hosts.find((h) => h.mac === mac)?.name ?? null,
      getIPAddrByMACAddr: (mac: string) => luci.hosts.find((h) => h.mac === mac)?.ipv4 ?? null,
      getIP6AddrByMACAddr: (mac: string) => luci.hosts.find((h) => h.mac === mac)?.ipv6 ?? null,
    }, LUCI_API.Hosts!);
    // network.js: getHostHints() is rpcd's luci-rpc getHostHints (its other
    // calls tolerate a refusal and give the hints nothing).
    const network = {
      getHostHints: () => {
        luci.calls.push({ object: 'luci-rpc', method: 'getHostHints', args: {}, phase: luci.phase, via: 'network' });

        return Promise.resolve(hosts);
      },
    };

    const view = { extend: (props: Record<string, unknown>) => props };

    return {
      view: guard('view', view, LUCI_API.view!),
      dom: guard('dom', dom, LUCI_API.dom!),
      form: guard('form', this.makeForm(), LUCI_API.form!),
      network: guard('network', network, LUCI_API.network!),
      poll: guard('poll', poll, LUCI_API.poll!),
      rpc: guard('rpc', rpc, LUCI_API.rpc!),
      uci: guard('uci', uci, LUCI_API.uci!),
      ui: guard('ui', ui, LUCI_API.ui!),
    };
  }

  private makeForm(): Record<string, unknown> {
    const luci = this;

    class Option {
      constructor(readonly trace: OptionTrace) {}

      value(key: string, label?: unknown) {
        this.trace.choices.push([key, String(label ?? key)]);
      }

      depends(...args: unknown[]) {
        this.trace.depends.push(args);
      }
    }

    const optionClass = (name: string) => ({ optionClass: name });

    class Section {
      readonly trace: SectionTrace;

      constructor(readonly map: unknown, cls: string, args: unknown[]) {
        this.trace = { class: cls, args, options: [] };
      }

      option(cls: { optionClass: string }, name: string, title?: string, description?: string) {
        if (!cls?.optionClass) throw new TypeError('section.option() needs a form option class');
        const trace: OptionTrace = { class: cls.optionClass, name, title, description, props: {}, choices: [], depends: [] };

        this.trace.options.push(trace);

        return guard(`form.${cls.optionClass}`, new Proxy(new Option(trace), {
          set: (target, prop, value) => {
            trace.props[String(prop)] = value;

            return Reflect.set(target, prop, value);
          },
        }), LUCI_API['form.Option']!);
      }

      render() {
        return E('div', { 'class': 'cbi-section' });
      }
    }

    const sectionClass = (name: string) => ({ sectionClass: name });

    class FormMap {
      readonly trace: (typeof luci.maps)[number];
      readonly?: boolean;

      constructor(config: string, title?: string, description?: string) {
        this.trace = { config, title, description, sections: [], resets: 0 };
        luci.maps.push(this.trace);
      }

      section(cls: { sectionClass: string }, ...args: unknown[]) {
        if (!cls?.sectionClass) throw new TypeError('map.section() needs a form section class');
        const section = new Section(this, cls.sectionClass, args);

        this.trace.sections.push(section.trace);

        return guard(`form.${cls.sectionClass}`, new Proxy(section, {
          set: (target, prop, value) => {
            if (prop === 'render') section.trace.custom = value;

            return Reflect.set(target, prop, value);
          },
        }), LUCI_API['form.Section']!);
      }

      load() {
        luci.uciCalls.push({ method: 'load', config: this.trace.config, phase: luci.phase });
        this.readonly = this.trace.readonly = Boolean(luci.options.readonly);

        return Promise.resolve();
      }

      /** form.js: parse the inputs, stage them (uci.save), reload, redraw. */
      save(_cb?: unknown, _silent?: boolean) {
        luci.uciCalls.push({ method: 'save', config: this.trace.config, phase: luci.phase });

        return this.load().then(() => this.renderContents());
      }

      reset() {
        this.trace.resets++;

        return Promise.resolve(this.renderContents());
      }

      render() {
        return this.load().then(() => this.renderContents());
      }

      private renderContents(): El {
        return E('div', { 'class': 'cbi-map' }, this.trace.sections.map((s) => (s.custom ? s.custom() : E('div', { 'class': 'cbi-section' }))));
      }
    }

    return {
      Map: function (config: string, title?: string, description?: string) {
        return guard('form.Map', new FormMap(config, title, description), LUCI_API['form.Map']!);
      },
      NamedSection: sectionClass('NamedSection'),
      TypedSection: sectionClass('TypedSection'),
      GridSection: sectionClass('GridSection'),
      TableSection: sectionClass('TableSection'),
      Flag: optionClass('Flag'),
      Value: optionClass('Value'),
      ListValue: optionClass('ListValue'),
      DynamicList: optionClass('DynamicList'),
      DummyValue: optionClass('DummyValue'),
      MultiValue: optionClass('MultiValue'),
    };
  }
}

/** The 'require ...' names at the top of a view, as luci.js reads them. */
export function requires(source: string): { module: string; as: string }[] {
  const out: { module: string; as: string }[] = [];

  for (const m of source.matchAll(/^\s*'([^']*)';?/gm)) {
    const r = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/.exec(m[1]!);

    if (r) out.push({ module: r[1]!, as: r[2] ?? r[1]!.replace(/[^a-zA-Z0-9_]/g, '_') });
    else if (m[1] !== 'use strict') break;
  }

  return out;
}

/** Compiles the view as luci.js does; throws on a syntax error. */
export function compile(source: string): Fn {
  const args = requires(source).map((r) => r.as);

  // eslint-disable-next-line no-new-func
  return new Function('window', 'document', 'L', ...args, source) as Fn;
}

/** Loads and renders the view; returns the view object and its top node. */
export async function runView(source: string, luci: Luci): Promise<{ view: Record<string, Fn & unknown>; node: El }> {
  const forbidden = (what: string) => new Proxy({}, { get: (_t, p) => { throw new TypeError(`the view touched ${what}.${String(p)}: use LuCI's classes`); } });
  const L = guard('L', {
    bind: (fn: Fn, self: unknown, ...args: unknown[]) => fn.bind(self, ...args),
    resolveDefault: (value: unknown, def: unknown) => Promise.resolve(value).catch(() => def),
    isObject: (v: unknown) => v != null && typeof v === 'object',
    toArray: (v: unknown) => (v == null ? [] : Array.isArray(v) ? v : typeof v === 'object' ? [v] : String(v).trim().split(/\s+/).filter(Boolean)),
  }, LUCI_API.L!);
  installGlobals(luci);

  const modules = requires(source).map((r) => {
    if (!(r.module in luci.modules)) throw new TypeError(`'require ${r.module}': no such LuCI class here (or not emulated)`);

    return luci.modules[r.module];
  });
  const view = compile(source)(forbidden('window'), forbidden('document'), L, ...modules) as Record<string, Fn & unknown>;

  luci.phase = 'load';
  const data = await view.load!.call(view);
  const node = (await view.render!.call(view, data)) as El;

  return { view, node };
}

/** LuCI's globals: E(), _(), N_() and String.prototype.format. */
export function installGlobals(luci: Luci): void {
  const g = globalThis as Record<string, unknown>;

  g.E = E;
  g._ = luci._;
  g.N_ = luci.N_;
  (String.prototype as unknown as Record<string, unknown>).format = format;
}
