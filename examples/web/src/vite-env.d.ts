/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The API's base URL, fixed at build time (`/config.js` overrides it at run time). */
  readonly VITE_API_BASE_URL?: string;
}
