/// <reference types="vitest" />
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// Two pages, two bundles: the admin app at / and the client portal at /portal (which never
// loads the admin code). `npm run dev` proxies the API to a running `make run` (port 8080).
const api = process.env.BIZGRAPH_API ?? "http://127.0.0.1:8080";

// In development, /portal and its page paths get the portal's page (as the server does).
const portalPages: Plugin = {
  name: "portal-pages",
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (path === "/portal" || (path.startsWith("/portal/") && !path.slice(8).includes("."))) {
        req.url = "/portal/index.html";
      }
      next();
    });
  },
};

export default defineConfig({
  plugins: [react(), portalPages],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // React, Mantine and Recharts in one shared chunk (~230 kB gzipped), cached for a year.
    chunkSizeWarningLimit: 1000,
    rollupOptions: {
      input: {
        admin: resolve(__dirname, "index.html"),
        portal: resolve(__dirname, "portal/index.html"),
      },
    },
  },
  server: {
    proxy: {
      "/graphql": api,
      "/auth": api,
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
