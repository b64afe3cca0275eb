"""Fill the unpainted parts of the Lee Perry-Smith colour texture: flat colour the original
painter left where the crown and the neck cut map. Texels in large flat regions are replaced
by the painted skin around them (a push-pull fill) plus grain copied from painted skin, so
the crown renders as skin instead of flat salmon and red-brown patches.

Usage: python3 fill_unpainted.py IN.jpg OUT.jpg [MASK.png]   (needs numpy and Pillow)"""
import sys
from collections import deque
import numpy as np
from PIL import Image

FLAT_STD = 1.6  # grey-level std in a 9x9 window: JPEG'd flat paint sits under ~1.3, skin above 2
MIN_REGION = 3000  # texels: a flat region this large is paint, not skin
GROW = 8  # texels added round the mask: the paint's drawn outline and JPEG ringing


def box(a, r):
    """Mean over a (2r+1)^2 window, edges clamped (summed-area table)."""
    p = np.pad(a, ((r + 1, r), (r + 1, r)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    s = p.cumsum(0).cumsum(1)
    k = 2 * r + 1
    return (s[k:, k:] - s[:-k, k:] - s[k:, :-k] + s[:-k, :-k]) / (k * k)


def components(m):
    lab = np.zeros(m.shape, np.int32)
    h, w = m.shape
    n = 0
    sizes = [0]
    for y0, x0 in zip(*np.nonzero(m)):
        if lab[y0, x0]:
            continue
        n += 1
        q = deque([(y0, x0)])
        lab[y0, x0] = n
        c = 0
        while q:
            y, x = q.popleft()
            c += 1
            for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= yy < h and 0 <= xx < w and m[yy, xx] and not lab[yy, xx]:
                    lab[yy, xx] = n
                    q.append((yy, xx))
        sizes.append(c)
    return lab, np.array(sizes)


def push_pull(img, known):
    """Fill unknown texels from known ones, coarse to fine (a pyramid of weighted means)."""
    if min(known.shape) <= 1 or known.all():
        return img
    h, w = known.shape
    H, W = (h + 1) // 2, (w + 1) // 2
    pi = np.zeros((H * 2, W * 2, 3))
    pk = np.zeros((H * 2, W * 2))
    pi[:h, :w] = img * known[..., None]
    pk[:h, :w] = known
    ci = pi.reshape(H, 2, W, 2, 3).sum((1, 3))
    ck = pk.reshape(H, 2, W, 2).sum((1, 3))
    coarse = np.where(ck[..., None] > 0, ci / np.maximum(ck, 1e-9)[..., None], 0)
    coarse = push_pull(coarse, ck > 0)
    up = coarse.repeat(2, 0).repeat(2, 1)[:h, :w]
    up = box(up, 1)
    return np.where(known[..., None], img, up)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    a = np.asarray(Image.open(src).convert("RGB")).astype(np.float64)
    g = a.mean(2)
    sd = np.sqrt(np.maximum(box(g * g, 4) - box(g, 4) ** 2, 0))
    lab, sizes = components(sd < FLAT_STD)
    # Paint fills the unwrap's outside, so it reaches the texture's edge; smooth skin inside
    # the unwrap (a forehead, a neck) does not.
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    mask = np.isin(lab, edge[edge > 0]) & (sizes[lab] >= MIN_REGION)
    # The band under the neck cut between the two flaps: paint crossed by drawn outlines (so
    # not flat), traced by hand on the texture.
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    mask |= (yy >= 926) & (xx >= 130) & (xx <= 900)
    # Enclosed bits of paint inside the mask (its outlines, blemishes) go too.
    for _ in range(GROW):
        mask = box(mask.astype(np.float64), 1) > 0
    holes, hsizes = components(~mask)
    big = hsizes.argmax() if len(hsizes) > 1 else 0
    mask |= (holes > 0) & (holes != big)
    known = ~mask
    smooth = push_pull(a, known)
    # Grain: the painted skin's high-pass, taken from the nearest painted texel straight up.
    high = a - box(a, 6)
    grain = np.zeros_like(a)
    h, w = mask.shape
    for x in range(w):
        col = mask[:, x]
        ys = np.nonzero(col)[0]
        for y in ys:
            yy = y
            while yy >= 0 and mask[yy, x]:
                yy -= 1
            # mirror into the painted skin above the gap
            src_y = yy - (y - yy)
            if 0 <= src_y < h and known[src_y, x]:
                grain[y, x] = high[src_y, x]
    out = np.where(mask[..., None], smooth + grain, a)
    Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8)).save(dst, quality=92)
    if len(sys.argv) > 3:
        Image.fromarray((mask * 255).astype(np.uint8)).save(sys.argv[3])
    print(f"filled {mask.sum()} of {mask.size} texels")


main()
