// Waiting helpers shared by the stock Yjs peers in this folder.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Polls `cond` every 10 ms; throws once `ms` have passed without it holding.
export const until = async (what, cond, ms = 30000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what)
    await sleep(10)
  }
}
