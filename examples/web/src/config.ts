/** Run-time settings, from `/config.js` (see `public/config.js`). */
declare global {
  interface Window {
    TASKFLOW_CONFIG?: { apiBaseUrl?: string };
  }
}

/**
 * The API's origin (and path prefix, if any), without a trailing slash: `/config.js` at run
 * time, else `VITE_API_BASE_URL` at build time, else `''`, which makes every request relative
 * to the page (same origin).
 */
export const apiBaseUrl: string = (
  window.TASKFLOW_CONFIG?.apiBaseUrl ??
  import.meta.env.VITE_API_BASE_URL ??
  ''
).replace(/\/+$/, '');
