// The typed API client and the browser session: openapi-fetch over the types generated from
// the server's OpenAPI document (`npm run gen:api`), with cookies sent on every request, the
// CSRF token kept in memory and sent on unsafe methods, and one refresh for any number of
// requests that meet an expired access token.
import createClient from 'openapi-fetch';

import { apiBaseUrl } from '../config';
import type { components, paths } from './schema';

export type Task = components['schemas']['TaskView'];
export type TaskPage = components['schemas']['TaskPageView'];
export type TaskStats = components['schemas']['TaskStats'];
export type NewTask = components['schemas']['NewTaskInput'];
export type TaskPatch = components['schemas']['TaskPatchInput'];
export type Priority = components['schemas']['Priority'];
export type User = components['schemas']['UserView'];
type Problem = components['schemas']['Problem'];

/** A problem+json answer (or a network failure, `status` 0) as an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `Retry-After` in seconds (429), when the server sent it. */
    readonly retryAfter: number | null = null,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static from(response: Response, body: unknown): ApiError {
    const problem = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem>;
    const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    return new ApiError(
      response.status,
      problem.code ?? 'http_' + response.status,
      problem.detail ?? problem.title ?? response.statusText,
      Number.isNaN(retryAfter) ? null : retryAfter,
      problem.errors ?? [],
    );
  }
}

/** Whether a failure is the client's (4xx): TanStack Query does not retry those. */
export function isClientError(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500;
}

/** What to tell the user about a failure. */
export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return 'The server cannot be reached. Check your connection and try again.';
  }
  switch (error.code) {
    case 'rate_limited':
      return error.retryAfter === null
        ? 'Too many requests. Wait a moment and try again.'
        : `Too many requests. Try again in ${error.retryAfter} s.`;
    case 'invalid_credentials':
      return 'Wrong email or password.';
    case 'email_taken':
      return 'An account with this email already exists.';
    case 'validation_failed':
      return error.fields.map((f) => `${f.field}: ${f.message}`).join(' ') || error.message;
    case 'unauthorized':
      return 'Your session has ended. Please sign in again.';
    default:
      return error.message;
  }
}

// The session. The CSRF token lives in memory only: a page on another origin than the API
// cannot read the API's CSRF cookie, so the token comes from the bodies of login, register and
// refresh, and from GET /api/v1/auth/csrf after a reload. This works the same when page and
// API share an origin.
let csrfToken: string | null = null;
/** Grows with every refresh: a 401 to a request sent before a refresh needs no new one. */
let generation = 0;
let refreshing: Promise<'refreshed' | 'ended' | 'failed'> | null = null;
const endedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Calls `listener` when the session ended under the user (the refresh was refused). */
export function onSessionEnded(listener: () => void): () => void {
  endedListeners.add(listener);
  return () => endedListeners.delete(listener);
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answers whose 401 means "wrong credentials" or "no session", not "refresh and retry"
 * (matched at the end of the path: the API may sit under a prefix). */
const NO_REFRESH = new Set([
  '/api/v1/auth/login',
  '/api/v1/auth/register',
  '/api/v1/auth/refresh',
  '/api/v1/auth/csrf',
  '/api/v1/auth/logout',
]);

function send(request: Request): Promise<Response> {
  if (csrfToken !== null && UNSAFE.has(request.method)) {
    request.headers.set('X-CSRF-Token', csrfToken);
  }
  return fetch(request);
}

/** One refresh at a time: every request that meets a 401 meanwhile waits for the same one. */
export function refreshOnce(): Promise<'refreshed' | 'ended' | 'failed'> {
  refreshing ??= api
    .POST('/api/v1/auth/refresh')
    .then(({ data, response }) => {
      if (data) {
        csrfToken = data.csrf_token;
        generation += 1;
        return 'refreshed' as const;
      }
      // 401/403: no session to refresh (expired, revoked, or no token after a reload).
      return response.status === 401 || response.status === 403 ? 'ended' : 'failed';
    })
    .catch(() => 'failed' as const)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** `fetch` for openapi-fetch: the CSRF header, and a 401 refreshed once and retried once. */
async function sessionFetch(request: Request): Promise<Response> {
  const sentIn = generation;
  // A body can be sent once: the retry needs its own copy, taken before sending.
  const retry = request.clone();
  const response = await send(request);
  const path = new URL(request.url).pathname;
  if (response.status !== 401 || [...NO_REFRESH].some((endpoint) => path.endsWith(endpoint))) {
    return response;
  }
  const outcome = generation !== sentIn ? 'refreshed' : await refreshOnce();
  if (outcome === 'refreshed') {
    return send(retry);
  }
  if (outcome === 'ended') {
    csrfToken = null;
    endedListeners.forEach((listener) => listener());
  }
  return response;
}

export const api = createClient<paths>({
  baseUrl: apiBaseUrl,
  // Cookies on every request, also when the API is on another origin (CORS with credentials).
  credentials: 'include',
  fetch: sessionFetch,
});

/** The data of an openapi-fetch answer, or its problem as an [`ApiError`]. */
export async function call<T>(
  answer: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await answer;
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  const { data, error, response } = result;
  if (!response.ok) throw ApiError.from(response, error);
  return data as T;
}

/** The `If-Match` of a task: the server's ETag of a task is its version, `"v3"`. */
export function etagOf(task: Task): string {
  return `"v${task.version}"`;
}
