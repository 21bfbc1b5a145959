import { isIP } from 'node:net';
import type { TokenEvent } from '../contract.js';
import { eventId } from './eventId.js';
import { firstEventTime } from './eventTime.js';
import { field, type Json } from './field.js';
import { k8sCredential } from './k8sCredential.js';
import { k8sLifecycle } from './k8sLifecycle.js';
import { k8sScope } from './k8sScope.js';
import { mapEnvelope } from './mapEnvelope.js';
import { result } from './result.js';
import type { Adapter } from './types.js';

// The API server logs up to four stages of one request under one auditID; only the last
// (ResponseComplete, or Panic) has the response code, so the others would count a use twice.
const FINAL_STAGES = new Set(['ResponseComplete', 'Panic']);

/**
 * Kubernetes audit events (`audit.k8s.io/v1` Event or EventList, including Amazon EKS exports):
 * requests authenticated with a service-account or bootstrap token → token.used; token minting,
 * service-account deletion and token-secret changes → see k8sLifecycle. Everything else is
 * ignored: people, nodes and certificates are not tokens.
 */
export const k8sAudit: Adapter = {
  name: 'k8s-audit',
  unwrap(input) {
    const rec = field.obj(input);
    return rec?.kind === 'EventList' ? (field.arr(rec.items) ?? []) : undefined;
  },
  map(record, ctx) {
    const rec = field.obj(record);
    if (!rec) return result.invalid('a Kubernetes audit record must be a JSON object');
    if (rec.kind === 'EventList')
      return mapEnvelope(field.arr(rec.items), (r) => k8sAudit.map(r, ctx), 'EventList');
    const apiVersion = field.str(rec.apiVersion);
    if (rec.kind !== 'Event' || (apiVersion && !apiVersion.startsWith('audit.k8s.io/'))) {
      return result.invalid(
        'not a Kubernetes audit event: "kind" must be "Event" and "apiVersion" audit.k8s.io/*',
      );
    }
    // Some exports (EKS via Panther) drop `stage`; such a record is the only one of its request.
    const stage = field.str(rec.stage);
    if (stage && !FINAL_STAGES.has(stage)) {
      return result.ignored(
        'not the final stage: only the ResponseComplete or Panic entry of a request is mapped',
      );
    }
    const user = field.obj(rec.user);
    const credential = k8sCredential(user);
    if (!credential && k8sCredential(field.obj(rec.impersonatedUser))) {
      return result.ignored('a user impersonated a service account: no service-account token was used');
    }
    // Use the request's arrival: a watch can complete minutes later, after a revocation it preceded.
    const time = firstEventTime(
      rec.requestReceivedTimestamp,
      rec.stageTimestamp,
      rec.timestamp,
      field.at(rec, 'metadata', 'creationTimestamp'),
    );
    const lifecycle = k8sLifecycle(rec, time);
    if (!credential && lifecycle.length === 0) {
      return result.ignored(
        'not authenticated with a service-account or bootstrap token, and no token lifecycle change',
      );
    }
    const status = field.num(field.at(rec, 'responseStatus', 'code'));
    if (status === undefined) return result.invalid('missing "responseStatus.code"');
    const auditId = field.str(rec.auditID);
    if (!auditId) return result.invalid('missing "auditID"');
    if (!time) return result.invalid('missing or unreadable "requestReceivedTimestamp"/"stageTimestamp"');
    const succeeded = status >= 200 && status < 300;
    if (!credential && !succeeded) return result.ignored('a token lifecycle request that failed');

    const events: TokenEvent[] = [];
    if (credential) {
      const used = usedEvent(rec, credential, status);
      if (typeof used === 'string') return result.invalid(used);
      events.push({ id: eventId('k8s', auditId, 'used'), time, ...used });
    }
    if (succeeded) {
      // Where a token was minted from matters (a node token request from a public IP); the
      // contract has request.source_ip only for uses, so lifecycle events carry it as an attribute.
      const from = field.str(field.arr(rec.sourceIPs)?.[0]);
      for (const { suffix, event } of lifecycle) {
        const attributes = { ...event.attributes, ...(from ? { source_ip: from } : {}) };
        events.push({ id: eventId('k8s', auditId, suffix), time, source: 'k8s-audit', ...event, attributes });
      }
    }
    return { kind: 'events', events };
  },
};

/** The token.used part of a request, or the reason it cannot be built. */
function usedEvent(rec: Json, credential: NonNullable<ReturnType<typeof k8sCredential>>, status: number) {
  const verb = field.str(rec.verb);
  if (!verb) return 'missing "verb"';
  const ip = field.str(field.arr(rec.sourceIPs)?.[0]);
  if (!ip || isIP(ip) === 0) return 'missing or malformed "sourceIPs"';
  const { scope, resource, method } = k8sScope(rec, verb);
  const attributes: Record<string, string> = { ...credential.attributes };
  const decision = field.str(field.at(rec, 'annotations', 'authorization.k8s.io/decision'));
  if (decision) attributes.authorization_decision = decision;
  const impersonated = field.str(field.at(rec, 'impersonatedUser', 'username'));
  if (impersonated) attributes.impersonated_user = impersonated;
  const userAgent = field.str(rec.userAgent);
  const path = field.str(rec.requestURI);
  return {
    type: 'token.used' as const,
    token: { id: credential.tokenId, kind: credential.kind, principal: credential.principal },
    request: {
      scope,
      action: verb,
      method,
      ...(resource ? { resource } : {}),
      ...(path ? { path: path.slice(0, 4096) } : {}),
      source_ip: ip,
      ...(userAgent ? { user_agent: userAgent.slice(0, 1024) } : {}),
      status,
    },
    source: 'k8s-audit',
    attributes,
  };
}
