"""Replace the embedded base-colour JPEG of a GLB (the image's bufferView must be the last
in the binary chunk). Usage: python3 swap_texture.py IN.glb NEW.jpg OUT.glb"""
import json, struct, sys
src, jpg, dst = sys.argv[1:4]
d = open(src, "rb").read()
jl = struct.unpack("<I", d[12:16])[0]
j = json.loads(d[20 : 20 + jl])
b0 = 20 + jl + 8
binlen = struct.unpack("<I", d[20 + jl : 24 + jl])[0]
binary = d[b0 : b0 + binlen]
img = j["images"][0]
bv = j["bufferViews"][img["bufferView"]]
assert bv["byteOffset"] + bv["byteLength"] >= max(v.get("byteOffset", 0) + v["byteLength"] for v in j["bufferViews"]) - 3
new = open(jpg, "rb").read()
binary = binary[: bv["byteOffset"]] + new
bv["byteLength"] = len(new)
binary += b"\0" * (-len(binary) % 4)
j["buffers"][0]["byteLength"] = len(binary)
js = json.dumps(j, separators=(",", ":")).encode()
js += b" " * (-len(js) % 4)
out = b"glTF" + struct.pack("<II", 2, 12 + 8 + len(js) + 8 + len(binary))
out += struct.pack("<I", len(js)) + b"JSON" + js + struct.pack("<I", len(binary)) + b"BIN\0" + binary
open(dst, "wb").write(out)
print(f"{dst}: {len(out)} bytes, image {len(new)} bytes")
