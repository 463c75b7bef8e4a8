/**
 * Polls `check` until it holds, and throws naming `what` if it does not within `timeoutMs`: for
 * waiting on something the system under test does (a row written, a commit refused, a handler
 * returned). The limit only turns a hang into a message; no outcome depends on how fast it comes.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
