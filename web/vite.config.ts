import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The API lives on the same origin under /v1 (NGINX in production). In development and preview,
// Vite forwards /v1 (including the Server-Sent Events stream) to an intake, by default the local stack's.
const api = process.env.BOXOFFICE_API_URL ?? 'http://127.0.0.1:8000';
const proxy = { '/v1': { target: api, changeOrigin: false } };

// Two builds of the same sources (docs/WEB.md, src/lib/build-mode.ts):
// - production (`vite build`): web/dist, what NGINX serves (`make up`); no test scaffolding, no source maps.
// - test (`vite build --mode e2e`): web/dist-e2e, what the browser tests serve (tests/e2e/conftest.py's
//   WEB_ROOT); keeps window.__seatState/__seatMapState and /dev/seat-map-perf, and source maps for stack traces.
// Both are minified production bundles (NODE_ENV=production: React's production build), so what the browser
// tests measure is what people get, less the scaffolding.
export const E2E_MODE = 'e2e';

export default defineConfig(({ mode }) => ({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
  build: mode === E2E_MODE ? { outDir: 'dist-e2e', sourcemap: true } : { outDir: 'dist', sourcemap: false },
  test: {
    // Pure model tests run in node; component tests opt into jsdom with a `@vitest-environment jsdom` comment.
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    // A component test renders a large map in jsdom: on two busy cores that can pass 5 s (the default) while
    // nothing is wrong. The limit is a hang detector, not a performance check (the benches measure speed).
    testTimeout: 30_000,
  },
}));
