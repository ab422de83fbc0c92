// A file-backed PGlite whose commits reach stable storage before they are
// acknowledged (DESIGN §9). PGlite 0.5 has no option for this: its default
// start parameters include `-F` (fsync off), and Emscripten's NODEFS has no
// fsync stream operation, so even with fsync on, postgres's fsync() calls
// return success without reaching the disk (electric-sql/pglite#1107), and
// the fdatasync syscall is a no-op. So: start postgres without `-F`, with
// `wal_sync_method=fsync` (the only method that goes through the stream's
// fsync), and give NODEFS a stream fsync that calls fsync(2) on the host file.
import { fsyncSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type InitResult = Awaited<ReturnType<NodeFS['init']>>;
type EmscriptenOpts = InitResult['emscriptenOpts'];
type PreRun = (mod: EmscriptenModule) => void;

/** The part of the Emscripten module the patch touches. */
interface EmscriptenModule {
  NODEFS: { stream_ops: Record<string, unknown> };
}

/** A NODEFS stream: regular files hold a host descriptor (`nfd`), directories do not. */
interface NodefsStream {
  nfd?: number;
}

/** PGlite's default start parameters (0.5.17) without `-F`, with WAL flushed through fsync(2). */
export const DURABLE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams.filter((p) => p !== '-F'),
  '-c',
  'fsync=on',
  '-c',
  'synchronous_commit=on',
  '-c',
  'wal_sync_method=fsync',
];

/** NODEFS with a stream fsync that reaches the host file system. */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Partial<EmscriptenOpts>): Promise<InitResult> {
    const res = await super.init(pg, opts);
    const preRun = [...((res.emscriptenOpts.preRun as PreRun[] | undefined) ?? [])];
    preRun.push((mod) => {
      mod.NODEFS.stream_ops.fsync = (stream: NodefsStream): number => {
        // Directory streams have no host descriptor; their entries are synced with the files.
        if (stream.nfd !== undefined) fsyncSync(stream.nfd);
        return 0;
      };
    });
    return { emscriptenOpts: { ...res.emscriptenOpts, preRun } as EmscriptenOpts };
  }
}
