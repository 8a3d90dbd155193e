"""MediaPipe's canonical face (the 468-point reference mesh its face-geometry pipeline fits to
find the head's pose, and the weights of the landmarks it fits with), read out of the
geometry_pipeline_metadata_landmarks.binarypb that @mediapipe/face_mesh packs into its assets
file. Writes JSON: {"vertices": [[x, y, z] x 468] (cm; x to the face's left, y up, z towards the
camera), "procrustes": [[landmark, weight], ...]}.

usage: canonical_face.py PACKED_ASSETS START END SHA256 OUT.json (the metadata's own SHA-256)
"""
import hashlib, json, struct, sys
src, start, end, sha, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
d = open(src, 'rb').read()[start:end]
if hashlib.sha256(d).hexdigest() != sha:
    sys.exit(f'canonical face: the geometry metadata in {src} is not the one recorded')
def varint(b, i):
    r = sh = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7f) << sh; sh += 7
        if c < 0x80: return r, i
def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i); f, w = k >> 3, k & 7
        if w == 0: v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif w == 5: v = b[i:i + 4]; i += 4
        elif w == 1: v = b[i:i + 8]; i += 8
        else: raise ValueError(w)
        yield f, w, v
mesh, basis = None, []
for f, w, v in fields(d):
    if f == 1: mesh = v
    elif f == 2:
        e = dict((g, vv) for g, ww, vv in fields(v))
        basis.append([e.get(1, 0), struct.unpack('<f', e[2])[0] if 2 in e else 0.0])
vb = []
for g, w, v in fields(mesh):
    if g == 3:
        vb += struct.unpack('<%df' % (len(v) // 4), v) if w == 2 else [struct.unpack('<f', v)[0]]
assert len(vb) == 468 * 5, len(vb)
assert len(basis) > 20
verts = [[round(vb[5 * i + k], 6) for k in range(3)] for i in range(468)]
json.dump({"source": "MediaPipe face_geometry canonical mesh (geometry_pipeline_metadata_landmarks.binarypb)",
           "vertices": verts, "procrustes": basis}, open(out, "w"))
