// Small file helpers over the Platform: text in and out, and replacing a
// file atomically (write a sibling, then rename) so a reader never sees half
// a file and a crash never leaves one.

import { errorCode, type Platform } from '../platform/platform.ts';

const decoder = new TextDecoder();

/** The file's text, or null when it does not exist. */
export async function readText(platform: Platform, path: string): Promise<string | null> {
  try {
    return decoder.decode(await platform.readFile(path));
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    throw e;
  }
}

export async function writeFileAtomic(platform: Platform, path: string, data: string, mode = 0o644): Promise<void> {
  const slash = path.lastIndexOf('/');
  const tmp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp-${Date.now().toString(36)}`;

  await platform.writeFile(tmp, data, mode);
  try {
    await platform.rename(tmp, path);
  } catch (e) {
    await platform.remove(tmp).catch(() => undefined);
    throw e;
  }
}
