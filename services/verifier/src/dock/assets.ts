// The dock page's script and stylesheet, bundled in memory by esbuild from the
// TypeScript sources in ./page (DESIGN §2: core and gs1 run unchanged in a
// browser). Built once per process on first use and cached; no file is
// written and no manual build step exists.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled page: one ES module and one stylesheet. */
export interface DockAssets {
  js: string;
  css: string;
}

/** The page could not be bundled (e.g. a node: import reached core or gs1). */
export class DockBuildError extends Error {
  override readonly name = 'DockBuildError';
  readonly code = 'DOCK_BUILD_FAILED' as const;
}

/**
 * The verifier package root (holds package.json and src/), found from this
 * module's own location, so the page sources are found whether the server
 * runs from src (tsx, Jest) or from dist (`pnpm build`).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'dock', 'page')))
      return dir;
    dir = dirname(dir);
  }
  throw new DockBuildError(
    'dock page sources (src/dock/page) not found next to @provenant/verifier',
  );
}

/**
 * Bundles the page: format esm, platform browser, @provenant/core,
 * @provenant/gs1 and @provenant/sdk compiled from their TypeScript sources (resolved through the
 * verifier's own dependency links), everything else from node_modules.
 * @throws DockBuildError with esbuild's messages (e.g. which file imports node:).
 */
export async function buildDockAssets(): Promise<DockAssets> {
  const root = packageRoot();
  const esbuild = await import('esbuild');
  // Workspace packages publish dist/; the page wants their sources (no prior build).
  const sourceOf = (pkg: 'core' | 'gs1' | 'sdk'): string => {
    const linked = join(root, 'node_modules', '@provenant', pkg);
    return join(realpathSync(linked), 'src', 'index.ts');
  };
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [join(root, 'src', 'dock', 'page', 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      outdir: '/dock-out',
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [
        {
          name: 'provenant-sources',
          setup(b) {
            b.onResolve({ filter: /^@provenant\/(core|gs1|sdk)$/ }, (args) => ({
              path: sourceOf(args.path.slice('@provenant/'.length) as 'core' | 'gs1' | 'sdk'),
            }));
          },
        },
      ],
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string } | null }[] })
      .errors;
    const detail = errors
      ? errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`).join('; ')
      : String(err);
    throw new DockBuildError(`bundling the dock page failed: ${detail}`);
  }
  let js = '';
  let css = '';
  for (const f of result.outputFiles) {
    if (f.path.endsWith('.js')) js = f.text;
    else if (f.path.endsWith('.css')) css = f.text;
  }
  if (!js) throw new DockBuildError('bundling the dock page produced no script');
  return { js, css };
}

let cached: Promise<DockAssets> | null = null;

/** {@link buildDockAssets}, once per process; a failed build is retried on the next call. */
export function dockAssets(): Promise<DockAssets> {
  if (!cached) {
    cached = buildDockAssets();
    cached.catch(() => {
      cached = null;
    });
  }
  return cached;
}
