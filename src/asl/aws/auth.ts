/**
 * Who may call the AWS protocol. With no token configured, SigV4 headers are accepted without
 * being verified (a local endpoint for SDKs that always sign). With a token, a request passes
 * when it carries the token as a bearer token or as the access key id of its SigV4
 * `Authorization: AWS4-HMAC-SHA256 Credential=<token>/<date>/<region>/states/aws4_request, ...`.
 * The signature itself is not verified: the token is the secret, as it is for the rest of the API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The access key id in a SigV4 Authorization header, if it is one. */
export function sigV4AccessKeyId(header: string | undefined): string | undefined {
  if (!header?.startsWith('AWS4-HMAC-SHA256 ')) return undefined;
  const m = /Credential=([^/,\s]+)\//.exec(header);
  return m?.[1];
}

export function tokenAccepted(header: string | undefined, token: string): boolean {
  const expected = digest(token);
  const bearer = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const given = bearer ?? sigV4AccessKeyId(header);
  return given !== undefined && timingSafeEqual(digest(given), expected);
}
