import { isIP } from 'node:net';

/**
 * Stand-in for `request.source_ip` when the log holds no address: CloudTrail writes a service
 * name (`cloudformation.amazonaws.com`, `AWS Internal`) when AWS called on the key's behalf, and
 * GitHub omits `actor_ip` unless IP disclosure is on. The contract requires an IP for
 * `token.used`, and dropping the use would hide it from stale/never-used detection, so the
 * unspecified address stands in and `attributes.source_host` (or `source_ip_unknown`) says so.
 * Source-comparing detectors must skip it.
 */
export const UNKNOWN_SOURCE_IP = '0.0.0.0';

/** `value` if it is an IP address, else the stand-in plus attributes that record what the log had. */
export function sourceIp(value: unknown): { ip: string; attributes: Record<string, string> } {
  if (typeof value === 'string' && isIP(value) !== 0) return { ip: value, attributes: {} };
  if (typeof value === 'string' && value !== '') {
    return { ip: UNKNOWN_SOURCE_IP, attributes: { source_host: value.slice(0, 256) } };
  }
  return { ip: UNKNOWN_SOURCE_IP, attributes: { source_ip_unknown: 'true' } };
}
