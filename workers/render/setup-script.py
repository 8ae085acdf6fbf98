# Offhours render setup: runs INSIDE Blender (`--python <jobdir>/offhours/setup.py`) after the
# scene is loaded and before the render trigger on the command line, for every render job.
#
# It does two things:
#   1. The sandbox check. A scene is untrusted data. --disable-autoexec stops its scripts, but a
#      scene can still point at any file (textures, linked libraries, fonts, sounds, volumes, caches,
#      movie clips, sequencer strips, text files...) and render the user's files into its output,
#      and a File Output compositor node can write anywhere. Every external reference is resolved
#      (`//` made absolute, `..` and symlinks resolved) and must lie inside the job directory;
#      otherwise the job is refused before a single pixel is rendered. Packed data is fine.
#      File Output nodes are REDIRECTED into <jobdir>/frames/file-output/<n>/ rather than refused:
#      scenes made for compositing often carry one, and redirecting keeps them renderable while
#      nothing lands outside the job (their files are hashed into the result as extra files).
#   2. Render settings the worker must be able to rely on: output naming (extension on, no
#      placeholders, no multiview, frame step 1), resolution, samples, render border, tiles for
#      steady progress, OSL off (an OSL shader can open any texture path at render time), and
#      denoising off where this Blender has no denoiser for the device.
#
# The job's parameters come from a JSON file written by the worker (`--offhours-job <path>` after
# `--`), never from Python source built out of strings. Machine-readable lines start with OFFHOURS_:
#   OFFHOURS_REFUSED <code> <kind> <json-quoted path>   job refused (the worker maps it to a failure code)
#   OFFHOURS_EFFECTIVE <nonce> <json>                   what will be rendered (size), for the result check
# The nonce is known only to the worker and this script: a scene cannot read files, but its names
# are printed in status lines, so any line a scene could forge must not be trusted for success.
#
# Compatible with Blender 3.0 to 5.x: every attribute that moved between versions is read with
# getattr and a fallback. On any refusal this raises, and `--python-exit-code 1` makes Blender exit
# with code 1 before rendering.
import json
import os
import sys

import bpy


def read_job():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    if "--offhours-job" not in argv:
        raise RuntimeError("offhours setup: --offhours-job <path> missing after --")
    with open(argv[argv.index("--offhours-job") + 1], "r", encoding="utf-8") as f:
        return json.load(f)


JOB = read_job()
JOB_DIR = os.path.realpath(JOB["jobDir"])
FRAMES_DIR = os.path.realpath(JOB["framesDir"])

refusals = []  # (code, kind, path)


def refuse(code, kind, path):
    refusals.append((code, kind, path))


def resolve(path, library=None):
    """Absolute, normalised, symlinks resolved; relative paths start at the blend file (or the
    library the data came from), as Blender itself reads them."""
    absolute = bpy.path.abspath(path, library=library) if library is not None else bpy.path.abspath(path)
    if not os.path.isabs(absolute):
        absolute = os.path.join(os.getcwd(), absolute)
    return os.path.realpath(absolute)


def inside_job(real):
    try:
        return os.path.commonpath([JOB_DIR, real]) == JOB_DIR
    except ValueError:  # different drives on Windows
        return False


def has_tokens(path):
    return "<UDIM>" in path or "<UVTILE>" in path or "#" in os.path.basename(path)


def is_used(id_data):
    users = getattr(id_data, "users", 1)
    return users > (1 if getattr(id_data, "use_fake_user", False) else 0)


checked = set()


def check(kind, path, library=None, must_exist=False, id_data=None):
    if not path or not isinstance(path, str):
        return
    if path == "<builtin>":
        return
    real = resolve(path, library)
    if real in checked:
        return
    checked.add(real)
    if not inside_job(real):
        refuse("external_reference", kind, real)
        return
    if must_exist and (id_data is None or is_used(id_data)):
        probe = os.path.dirname(real) if has_tokens(real) else real
        if not os.path.exists(probe):
            refuse("missing_file", kind, real)


def packed(id_data):
    return bool(getattr(id_data, "packed_file", None)) or len(getattr(id_data, "packed_files", ()) or ()) > 0


def lib_of(id_data):
    return getattr(id_data, "library", None)


def check_ids():
    for lib in bpy.data.libraries:
        if not packed(lib):
            check("library", lib.filepath, lib_of(lib), must_exist=True, id_data=lib)
    for img in bpy.data.images:
        if img.source in {"FILE", "SEQUENCE", "MOVIE", "TILED"} and not packed(img):
            check("image", img.filepath, lib_of(img), must_exist=True, id_data=img)
    for font in bpy.data.fonts:
        if not packed(font):
            check("font", font.filepath, lib_of(font), must_exist=True, id_data=font)
    for sound in bpy.data.sounds:
        if not packed(sound):
            check("sound", sound.filepath, lib_of(sound), must_exist=True, id_data=sound)
    for vol in getattr(bpy.data, "volumes", []):
        if not packed(vol):
            check("volume", vol.filepath, lib_of(vol), must_exist=True, id_data=vol)
    for cache in bpy.data.cache_files:
        check("cache_file", cache.filepath, lib_of(cache), must_exist=True, id_data=cache)
    for clip in bpy.data.movieclips:
        check("movie_clip", clip.filepath, lib_of(clip), must_exist=True, id_data=clip)
    for text in bpy.data.texts:
        if not text.is_in_memory:
            check("text", text.filepath, lib_of(text))


def check_point_cache(kind, cache, library):
    if cache is None:
        return
    if getattr(cache, "use_external", False) or getattr(cache, "filepath", ""):
        check(kind, cache.filepath, library)


def check_objects():
    for ob in bpy.data.objects:
        lib = lib_of(ob)
        for mod in ob.modifiers:
            if mod.type == "MESH_CACHE":
                check("mesh_cache", mod.filepath, lib, must_exist=True, id_data=ob)
            elif mod.type == "OCEAN":
                check("ocean_cache", getattr(mod, "filepath", ""), lib)
            elif mod.type == "FLUID" and getattr(mod, "domain_settings", None) is not None:
                check("fluid_cache", mod.domain_settings.cache_directory, lib)
            elif mod.type in {"CLOTH", "SOFT_BODY"}:
                check_point_cache("point_cache", getattr(mod, "point_cache", None), lib)
            elif mod.type == "DYNAMIC_PAINT" and getattr(mod, "canvas_settings", None) is not None:
                for surface in mod.canvas_settings.canvas_surfaces:
                    check_point_cache("point_cache", getattr(surface, "point_cache", None), lib)
                    check("dynamic_paint_output", getattr(surface, "image_output_path", ""), lib)
            elif mod.type == "NODES":
                check("bake_directory", getattr(mod, "bake_directory", ""), lib)
                for bake in getattr(mod, "bakes", []):
                    check("bake_directory", getattr(bake, "directory", ""), lib)
        for psys in ob.particle_systems:
            check_point_cache("point_cache", psys.point_cache, lib)
    for scene in bpy.data.scenes:
        rbw = scene.rigidbody_world
        if rbw is not None:
            check_point_cache("point_cache", rbw.point_cache, lib_of(scene))


def all_node_trees():
    seen = set()
    trees = []

    def add(tree):
        if tree is not None and tree.as_pointer() not in seen:
            seen.add(tree.as_pointer())
            trees.append(tree)

    for group in bpy.data.node_groups:
        add(group)
    for scene in bpy.data.scenes:
        add(getattr(scene, "node_tree", None))
        add(getattr(scene, "compositing_node_group", None))
    for coll in (bpy.data.materials, bpy.data.worlds, bpy.data.lights, bpy.data.textures, bpy.data.linestyles):
        for owner in coll:
            add(getattr(owner, "node_tree", None))
    return trees


def check_nodes():
    for tree in all_node_trees():
        lib = lib_of(tree)
        for node in tree.nodes:
            idname = node.bl_idname
            if idname in {"ShaderNodeTexIES", "ShaderNodeScript"} and getattr(node, "mode", "") == "EXTERNAL":
                check("ies" if idname == "ShaderNodeTexIES" else "osl_script", node.filepath, lib, must_exist=True)
            elif idname.startswith("GeometryNodeImport"):
                # Geometry Nodes import nodes (4.2+) take their path from a socket, which can be
                # computed at evaluation time: no static check can clear them.
                refuse("external_reference", "geometry_import_node", idname)


def check_sequencer():
    for scene in bpy.data.scenes:
        editor = scene.sequence_editor
        if editor is None:
            continue
        strips = getattr(editor, "sequences_all", None) or getattr(editor, "strips_all", [])
        lib = lib_of(scene)
        for strip in strips:
            if strip.type == "IMAGE":
                for element in strip.elements:
                    check("sequencer_image", os.path.join(strip.directory, element.filename), lib, must_exist=True)
            elif strip.type == "MOVIE":
                check("sequencer_movie", strip.filepath, lib, must_exist=True)
            # Sound, clip, text and scene strips point at data blocks checked above.


def check_blend_paths():
    # Blender's own list of every file path it knows about (the "Report Missing Files" walk):
    # a safety net for kinds this script does not name.
    try:
        paths = bpy.utils.blend_paths(absolute=True, packed=False, local=False)
    except Exception:  # noqa: BLE001 - older or newer signature; the named checks above still ran
        return
    for path in paths:
        check("path", path)


def sanitize_subpath(sub):
    parts = [p for p in sub.replace("\\", "/").split("/") if p not in {"", ".", ".."} and not p.startswith(".")]
    return "/".join(parts) or "output_"


def redirect_file_outputs():
    count = 0
    for tree in all_node_trees():
        for node in tree.nodes:
            if node.bl_idname != "CompositorNodeOutputFile":
                continue
            count += 1
            target = os.path.join(FRAMES_DIR, "file-output", str(count))
            os.makedirs(target, exist_ok=True)
            for attr in ("base_path", "directory"):
                if hasattr(node, attr):
                    setattr(node, attr, target + os.sep)
            for slot in getattr(node, "file_slots", []):
                slot.path = sanitize_subpath(slot.path)
            if hasattr(node, "file_name"):
                node.file_name = sanitize_subpath(node.file_name)
            for slot in getattr(node, "layer_slots", []):
                slot.name = sanitize_subpath(slot.name)
            if not inside_job(os.path.realpath(target)):
                refuse("external_reference", "file_output", target)


def tile_size_for(width, height):
    # A handful of tiles per frame gives steady progress lines without the cost of tiny tiles.
    size = 16
    while size < 2048 and size * 4 < max(width, height):
        size *= 2
    return size


def denoiser_available(scene, device):
    # Reading scene.cycles.denoiser when its stored value is not built in prints an RNA warning,
    # so decide from the build first.
    try:
        import _cycles

        oidn = bool(getattr(_cycles, "with_openimagedenoise", False))
    except ImportError:
        oidn = False
    if device == "OPTIX":
        if not oidn:
            try:
                scene.cycles.denoiser = "OPTIX"
            except (TypeError, ValueError):
                return False
        return True
    return oidn and getattr(scene.cycles, "denoiser", "") != "OPTIX"


def configure(scene):
    render = scene.render
    resolution = JOB.get("resolution")
    if resolution:
        render.resolution_x = int(resolution["width"])
        render.resolution_y = int(resolution["height"])
        render.resolution_percentage = 100
    region = JOB.get("region")
    if region:
        render.use_border = True
        render.use_crop_to_border = False
        render.border_min_x = float(region["minX"])
        render.border_min_y = float(region["minY"])
        render.border_max_x = float(region["maxX"])
        render.border_max_y = float(region["maxY"])
    else:
        render.use_border = False
    render.use_file_extension = True
    render.use_overwrite = True
    render.use_placeholder = False
    render.use_multiview = False
    render.image_settings.file_format = "PNG"
    scene.frame_step = 1

    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    device = JOB.get("device", "CPU")
    samples = JOB.get("samples")

    if hasattr(scene, "cycles"):
        cycles = scene.cycles
        cycles.device = "CPU" if device == "CPU" else "GPU"
        if hasattr(cycles, "shading_system"):
            cycles.shading_system = False
        if samples:
            cycles.samples = int(samples)
        if hasattr(cycles, "use_auto_tile"):
            cycles.use_auto_tile = True
            cycles.tile_size = int(JOB.get("tileSize") or tile_size_for(width, height))
        if not denoiser_available(scene, device):
            cycles.use_denoising = False
            for layer in scene.view_layers:
                if hasattr(layer, "cycles") and hasattr(layer.cycles, "use_denoising"):
                    layer.cycles.use_denoising = False
    if samples and hasattr(scene, "eevee"):
        scene.eevee.taa_render_samples = int(samples)

    # The sample count that will be rendered, for the speed figure (pixels x samples / second).
    effective_samples = None
    if render.engine == "CYCLES" and hasattr(scene, "cycles"):
        effective_samples = int(scene.cycles.samples)
    elif hasattr(scene, "eevee"):
        effective_samples = int(getattr(scene.eevee, "taa_render_samples", 0)) or None
    return {"width": width, "height": height, "engine": render.engine, "samples": effective_samples}


def main():
    check_ids()
    check_objects()
    check_nodes()
    check_sequencer()
    check_blend_paths()
    redirect_file_outputs()
    for code, kind, path in refusals:
        print("OFFHOURS_REFUSED %s %s %s" % (code, kind, json.dumps(path)), flush=True)
    if refusals:
        raise RuntimeError("offhours: scene refused (%d reference(s) outside the job or missing)" % len(refusals))
    effective = configure(bpy.context.scene)
    print("OFFHOURS_EFFECTIVE %s %s" % (JOB["nonce"], json.dumps(effective, separators=(",", ":"))), flush=True)


main()
