// The two families of ubus errors. UbusError carries a ubus status code by
// its name (as ubusmsg.h spells it) so callers branch on `code`, never on
// message text. MalformedError is for bytes that can never become a valid
// message; "need more bytes" is not an error at all (framing returns null).

/** enum ubus_msg_status, in order: the index is the wire value. */
export const STATUS_NAMES = [
  'OK',
  'INVALID_COMMAND',
  'INVALID_ARGUMENT',
  'METHOD_NOT_FOUND',
  'NOT_FOUND',
  'NO_DATA',
  'PERMISSION_DENIED',
  'TIMEOUT',
  'NOT_SUPPORTED',
  'UNKNOWN_ERROR',
  'CONNECTION_FAILED',
  'NO_MEMORY',
  'PARSE_ERROR',
  'SYSTEM_ERROR',
] as const;

export type StatusName = (typeof STATUS_NAMES)[number];

/** ubus_strerror()'s texts, so messages read like the `ubus` CLI's. */
const STATUS_TEXT: Record<StatusName, string> = {
  OK: 'Success',
  INVALID_COMMAND: 'Invalid command',
  INVALID_ARGUMENT: 'Invalid argument',
  METHOD_NOT_FOUND: 'Method not found',
  NOT_FOUND: 'Not found',
  NO_DATA: 'No response',
  PERMISSION_DENIED: 'Permission denied',
  TIMEOUT: 'Request timed out',
  NOT_SUPPORTED: 'Operation not supported',
  UNKNOWN_ERROR: 'Unknown error',
  CONNECTION_FAILED: 'Connection failed',
  NO_MEMORY: 'Out of memory',
  PARSE_ERROR: 'Parsing message data failed',
  SYSTEM_ERROR: 'System error',
};

export function statusName(status: number): StatusName | undefined {
  return STATUS_NAMES[status];
}

export function statusCode(name: StatusName): number {
  return STATUS_NAMES.indexOf(name);
}

/** What ubus_strerror() prints for a status code. */
export function statusText(status: number): string {
  const name = statusName(status);

  return name ? STATUS_TEXT[name] : `Unknown error: ${status}`;
}

export interface UbusErrorOptions {
  /** The request that failed: 'lookup', 'invoke', 'add_object', ... */
  op?: string;
  /** Data that came with the failure (a DATA reply before a bad STATUS),
   * or that a method handler wants sent before its error status. */
  data?: unknown;
  cause?: unknown;
}

/** A ubus status other than OK, from ubusd, a remote object or this client. */
export class UbusError extends Error {
  /** The status name, or `UNKNOWN_<n>` for a code newer than this table. */
  readonly code: string;
  readonly status: number;
  readonly op: string | undefined;
  readonly data: unknown;

  constructor(status: number | StatusName, message?: string, options: UbusErrorOptions = {}) {
    const code = typeof status === 'number' ? status : statusCode(status);

    super(message ?? statusText(code), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UbusError';
    this.status = code;
    this.code = statusName(code) ?? `UNKNOWN_${code}`;
    this.op = options.op;
    this.data = options.data;
  }
}

/** Bytes that break the blob / ubus message format. */
export class MalformedError extends Error {
  readonly code = 'MALFORMED';

  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

/** A value that cannot be encoded (too long, NUL in a name, bad integer). */
export class EncodeError extends Error {
  readonly code = 'ENCODE';

  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}
