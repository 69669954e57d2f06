// The seeded generator the fault proxy and the soak driver share (mulberry32: small, fast,
// and a run replays exactly from the seed it printed).

/// The seed given on the command line, else a fresh random one.
export function seed_from(arg) {
    return arg !== undefined ? Number(arg) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/// A function returning the next number in [0, 1) of the sequence for `seed`.
export function seeded_random(seed) {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
