// Watching a source tree for `npm run dev`.
//
// Node 20's recursive fs.watch on Linux watches every file by its inode. A save that writes a
// temporary file and renames it over the original (editors, `sed -i`) replaces that inode: the
// watch stays on the old one, and since the file's name is still in Node's list it is never
// watched again, so the first such save is the last one seen. A directory keeps its inode across
// those saves, and its watch names each entry created, written, renamed over or removed in it, so
// this watches every directory instead (one inotify watch per directory rather than per file), and
// re-arms as directories come, go or are replaced.
import { lstatSync, readdirSync, watch, type Dirent, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';

export interface TreeWatcherOptions {
  /** Directory names not to descend into (node_modules). */
  skipDirectory?: (name: string) => boolean;
  /** A directory that could not be watched (e.g. the system's inotify watch limit): edits there go unseen. */
  onError: (error: Error) => void;
}

export interface TreeWatcher {
  close(): void;
}

interface Armed {
  watcher: FSWatcher;
  /** The directory this watch is on: a directory replaced under the same name needs a new one. */
  inode: number;
}

/**
 * Calls onChange with the path, relative to root, of every file created, written, replaced or
 * removed under root (and of a directory removed); a directory that appears reports each file in
 * it. One save makes several calls: callers debounce.
 */
export function watchTree(root: string, onChange: (relativePath: string) => void, options: TreeWatcherOptions): TreeWatcher {
  const skipDirectory = options.skipDirectory ?? (() => false);
  const armed = new Map<string, Armed>();
  let closed = false;

  const report = (file: string): void => {
    if (!closed) onChange(path.relative(root, file));
  };

  const disarm = (dir: string): void => {
    for (const [watched, entry] of armed) {
      if (watched === dir || watched.startsWith(dir + path.sep)) {
        entry.watcher.close();
        armed.delete(watched);
      }
    }
  };

  /** Watches dir and every directory below it; `reportFiles` for a directory that just appeared. */
  const arm = (dir: string, reportFiles: boolean): void => {
    if (closed) return;
    const stat = lstatOrUndefined(dir);
    if (!stat?.isDirectory()) return;
    const existing = armed.get(dir);
    if (existing?.inode === stat.ino) return;
    if (existing) disarm(dir);
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, name) => {
        // A watch replaced by a newer one for the same name may still deliver a last event.
        if (armed.get(dir) === entry) onEvent(dir, name);
      });
    } catch (error) {
      // Gone before we got to it: the event that told its parent about that is handled there.
      if (!isErrnoCode(error, 'ENOENT') && !isErrnoCode(error, 'ENOTDIR')) options.onError(asError(error, dir));
      return;
    }
    const entry: Armed = { watcher, inode: stat.ino };
    watcher.on('error', (error) => {
      if (armed.get(dir) !== entry) return;
      disarm(dir);
      options.onError(asError(error, dir));
    });
    armed.set(dir, entry);
    // Listed after the watch is set: a file made in between is in the listing or reported by the watch.
    for (const child of list(dir)) {
      const full = path.join(dir, child.name);
      if (child.isDirectory()) {
        if (!skipDirectory(child.name)) arm(full, reportFiles);
      } else if (reportFiles) {
        report(full);
      }
    }
  };

  const onEvent = (dir: string, name: string | null): void => {
    if (closed) return;
    // The watched directory itself is gone or replaced: its parent's watch reports that and re-arms.
    if (lstatOrUndefined(dir)?.ino !== armed.get(dir)?.inode) {
      disarm(dir);
      return;
    }
    if (name === null) {
      // The system did not say which entry changed: look at them all.
      for (const child of list(dir)) onEntry(dir, child.name);
      return;
    }
    onEntry(dir, name);
  };

  const onEntry = (dir: string, name: string): void => {
    const full = path.join(dir, name);
    const stat = lstatOrUndefined(full);
    if (stat?.isDirectory()) {
      // New, moved in or replaced (arm keeps a watch whose directory is still the same one).
      if (!skipDirectory(name)) arm(full, true);
      return;
    }
    // A watched directory removed, or replaced by a file.
    if (armed.has(full)) disarm(full);
    report(full);
  };

  if (!lstatOrUndefined(root)?.isDirectory()) throw new Error(`cannot watch ${root}: not a directory`);
  arm(root, false);
  return {
    close: () => {
      closed = true;
      disarm(root);
    },
  };
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** The entries of dir; none when it has gone meanwhile. */
function list(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function asError(error: unknown, dir: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const hint = isErrnoCode(error, 'ENOSPC') ? ' (the system inotify watch limit is reached: raise fs.inotify.max_user_watches)' : '';
  return new Error(`cannot watch ${dir}: ${message}${hint}`, { cause: error });
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
