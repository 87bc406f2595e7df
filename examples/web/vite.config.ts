import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` serves the client on http://localhost:5173 and forwards /api to a TaskFlow
// server on :8080 (`TASKFLOW_COOKIE_SECURE=false TASKFLOW_ALLOWED_ORIGINS=http://localhost:5173
// cargo run --example axum_server`), so the page and the API share one origin, as in production
// behind a reverse proxy. The proxy leaves `Origin` as the browser sent it (the API checks it).
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: process.env.TASKFLOW_API ?? 'http://127.0.0.1:8080' },
    },
  },
});
