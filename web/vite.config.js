import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The page is served by `surroundyou serve` itself (same origin as the API), so no proxy
// is needed in production; `npm run dev` proxies the API to a local serve for development.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: process.env.SY_WEB_OUT_DIR || 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/store': 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{js,jsx}'],
    setupFiles: ['src/test-setup.js'],
  },
});
