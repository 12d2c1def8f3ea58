/** Read a file only when it is a regular file: a FIFO, device or directory in its place never blocks a reader. */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";

/**
 * The text of `file`. It is opened without blocking (a FIFO with no writer would otherwise hang the
 * open, and a read on it hang forever) and checked through the open descriptor, so nothing swapped in
 * after the check is read. Throws the open's own error (ENOENT, EACCES, ELOOP…) or `ENOTREG`.
 */
export function readRegularFile(file: string, flags = 0): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | flags);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${file}: not a regular file`), { code: "ENOTREG" });
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}
