/** The code of a failed system call (ENOENT, EACCES, …), else the error's message: for one-line errors. */
export function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);
}
