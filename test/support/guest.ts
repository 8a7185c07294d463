// Guest-flow helpers shared by the e2e tests: sign in through the demo's /login form, read the
// pb_auth cookie, fetch pages with it.
import assert from 'node:assert/strict';
import type { PocketBaseServer } from './pocketbase.ts';
import { getSetCookie, postForm, type PostFormOptions, type SetCookie } from './http.ts';

export interface GuestSession {
  token: string;
  record: { id: string; collectionId: string; collectionName: string; email: string; verified: boolean; anonymous: boolean };
  /** The Set-Cookie as received. */
  setCookie: SetCookie;
  /** `pb_auth=<value>`, ready for a Cookie header. */
  cookie: string;
}

/** Decodes a pb_auth cookie value (URL-encoded JSON {token, record}). */
export function decodeAuthCookie(value: string): { token: string; record: GuestSession['record'] } {
  return JSON.parse(decodeURIComponent(value));
}

/** POST /login mode=anonymous and return the session it set; asserts the redirect to /. */
export async function signInAsGuest(pb: PocketBaseServer, opts: PostFormOptions = {}): Promise<GuestSession> {
  const res = await postForm(`${pb.url}/login`, { mode: 'anonymous' }, opts);
  const body = res.status === 302 ? '' : await res.text();
  assert.equal(res.status, 302, `expected a redirect from /login, got ${res.status}: ${body.slice(0, 500)}`);
  assert.equal(res.headers.get('location'), '/');
  const setCookie = getSetCookie(res, 'pb_auth');
  assert.ok(setCookie, 'no pb_auth cookie was set');
  const { token, record } = decodeAuthCookie(setCookie.value);
  return { token, record, setCookie, cookie: `pb_auth=${setCookie.value}` };
}

/** GET a page with a Cookie header. */
export function getPage(pb: PocketBaseServer, path: string, cookie?: string, headers: Record<string, string> = {}): Promise<Response> {
  return pb.fetch(path, { headers: { ...(cookie ? { cookie } : {}), ...headers } });
}

/** The text of `<dd id="...">` on the demo's home page, or null. */
export function field(html: string, id: string): string | null {
  const match = new RegExp(`<dd id="${id}">([^<]*)</dd>`).exec(html);
  return match ? match[1]!.trim() : null;
}

/** auth-refresh through PocketBase's own API: 200 when the token is a live auth token. */
export function authRefresh(pb: PocketBaseServer, collection: string, token: string): Promise<Response> {
  return fetch(`${pb.url}/api/collections/${collection}/auth-refresh`, { method: 'POST', headers: { authorization: token } });
}
