import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The API lives on the same origin under /v1 (NGINX in production). In development and preview,
// Vite forwards /v1 (including the Server-Sent Events stream) to an intake, by default the local stack's.
const api = process.env.BOXOFFICE_API_URL ?? 'http://127.0.0.1:8000';
const proxy = { '/v1': { target: api, changeOrigin: false } };

export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
  build: { outDir: 'dist', sourcemap: true },
  test: {
    // Pure model tests run in node; component tests opt into jsdom with a `@vitest-environment jsdom` comment.
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
