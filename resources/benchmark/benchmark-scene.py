# The Offhours benchmark scene, built inside Blender from the factory startup file, so that no
# binary .blend ships: a ground plane, a few spheres with different materials (diffuse, glossy,
# glass, emission), the startup light and camera, Cycles at a small fixed resolution.
#
#   blender --background --factory-startup --disable-autoexec --python-exit-code 1 \
#           --python benchmark-scene.py -- <out.blend> [--resolution 128] [--samples 64]
#
# Adaptive sampling and denoising are off so every pixel takes exactly `samples` samples: the
# result (pixels x samples / second) is then comparable between devices and machines. Debian's
# Blender has no denoiser anyway.
import math
import sys

import bpy

argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
if not argv:
    raise SystemExit("usage: ... --python benchmark-scene.py -- <out.blend> [--resolution N] [--samples N]")
out = argv[0]


def option(name, default):
    return int(argv[argv.index(name) + 1]) if name in argv else default


resolution = option("--resolution", 128)
samples = option("--samples", 64)

scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.render.resolution_x = resolution
scene.render.resolution_y = resolution
scene.render.resolution_percentage = 100
scene.frame_start = 1
scene.frame_end = 1
cycles = scene.cycles
cycles.samples = samples
cycles.use_adaptive_sampling = False
cycles.use_denoising = False
cycles.seed = 1

for ob in list(bpy.data.objects):
    if ob.type == "MESH":
        bpy.data.objects.remove(ob, do_unlink=True)


def material(name, kind, color):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    out_node = next(n for n in nodes if n.bl_idname == "ShaderNodeOutputMaterial")
    for n in list(nodes):
        if n.name != out_node.name:  # RNA wrappers are new objects on each access: compare names
            nodes.remove(n)
    shader = nodes.new(kind)
    shader.inputs["Color"].default_value = color
    if kind == "ShaderNodeEmission":
        shader.inputs["Strength"].default_value = 4.0
    mat.node_tree.links.new(shader.outputs[0], out_node.inputs["Surface"])
    return mat


def add(mesh_op, location, mat, **kw):
    mesh_op(location=location, **kw)
    ob = bpy.context.active_object
    ob.data.materials.append(mat)
    return ob


add(bpy.ops.mesh.primitive_plane_add, (0, 0, 0), material("ground", "ShaderNodeBsdfDiffuse", (0.6, 0.6, 0.6, 1)), size=20)
kinds = [
    ("diffuse", "ShaderNodeBsdfDiffuse", (0.8, 0.2, 0.1, 1)),
    ("glossy", "ShaderNodeBsdfGlossy", (0.9, 0.9, 0.9, 1)),
    ("glass", "ShaderNodeBsdfGlass", (0.7, 0.9, 1.0, 1)),
    ("emission", "ShaderNodeEmission", (1.0, 0.8, 0.4, 1)),
]
for i, (name, kind, color) in enumerate(kinds):
    angle = i * math.pi / 2
    sphere = add(
        bpy.ops.mesh.primitive_uv_sphere_add,
        (2.2 * math.cos(angle), 2.2 * math.sin(angle), 1),
        material(name, kind, color),
        radius=1,
        segments=48,
        ring_count=24,
    )
    bpy.ops.object.shade_smooth()

camera = scene.camera
camera.location = (7.5, -7.5, 5.5)
camera.rotation_euler = (math.radians(63), 0, math.radians(45))

bpy.ops.wm.save_as_mainfile(filepath=out)
