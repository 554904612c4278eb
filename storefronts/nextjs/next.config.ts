import path from 'node:path';
import type { NextConfig } from 'next';

// The SDK is a `file:` dependency two folders up (sdk/typescript): the bundler and the
// output tracing must be allowed to read the whole repository (npm scripts run here).
const repoRoot = path.resolve(process.cwd(), '..', '..');

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default config;
