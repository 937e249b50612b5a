// Errors and warnings as data. Every layer (config validation, zones, the
// kernel, the daemon) reports problems as Diagnostics; the CLI prints them
// with formatDiagnostic, ubus returns them as they are, and LuCI translates
// them by code. Nothing parses message text.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable identifier, e.g. 'invalid_family'; what LuCI translates. */
  code: string;
  /** The UCI field at fault, as `uci` names it: 'vpn-passthrough.pptp.family'. */
  field?: string;
  /** The offending value, as written. */
  value?: string;
  /** One English sentence saying what is wrong and what to do. */
  message: string;
  /** The inside hosts a warning is about (e.g. who collides on raw ESP), for
   * pages that word the message themselves. */
  hosts?: string[];
}

export function error(code: string, message: string, field?: string, value?: string): Diagnostic {
  return { severity: 'error', code, message, ...(field === undefined ? {} : { field }), ...(value === undefined ? {} : { value }) };
}

export function warning(code: string, message: string, field?: string, value?: string): Diagnostic {
  return { severity: 'warning', code, message, ...(field === undefined ? {} : { field }), ...(value === undefined ? {} : { value }) };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** "error: vpn-passthrough.pptp.family='ipv5': ... [invalid_family]" */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.field === undefined ? '' : d.value === undefined ? `${d.field}: ` : `${d.field}='${d.value}': `;

  return `${d.severity}: ${where}${d.message} [${d.code}]`;
}
