// Group commit for small statements: concurrent calls of the same kind (a
// token lookup, a rate-limit increment, a verification's facts, an audit
// row) become one statement over all of them. Under load a request's cost is
// its database round trips (each a socket write and read), not the work
// inside them; one round trip for many requests is the same work for less.
// Nothing waits for company: a call with a free lane starts at once (with
// the calls of the same tick), the others go in the next statement.

/** Options of a Coalescer. */
export interface CoalescerOptions {
  /** statements of this kind in flight at once (default 1: the calls meanwhile form the next) */
  lanes?: number;
  /** most calls in one statement (default 128) */
  max?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs `run(items)` (one result per item, in order) for the calls waiting
 * whenever a lane is free. A failed statement fails its own calls only.
 */
export class Coalescer<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly lanes: number;
  private readonly max: number;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    options: CoalescerOptions = {},
  ) {
    this.lanes = options.lanes ?? 1;
    this.max = options.max ?? 128;
  }

  /** The result of `item`, from the next statement with room. */
  call(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.lanes || this.waiting.length === 0) return;
    this.scheduled = true;
    // The calls made in the same tick go together.
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight >= this.lanes || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.max);
    this.inFlight++;
    this.run(batch.map((w) => w.item))
      .then(
        (results) => {
          if (results.length !== batch.length)
            throw new Error(`coalesced statement answered ${results.length} of ${batch.length}`);
          batch.forEach((w, i) => w.resolve(results[i]!));
        },
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
    this.schedule(); // another lane may take the rest
  }
}
