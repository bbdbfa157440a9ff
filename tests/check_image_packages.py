#!/usr/bin/env python3
"""The container image's runtime stage installs every shared library the binary needs.

deploy/Dockerfile's second stage lists Debian runtime packages by hand; a library added to
the build (CMake) but not to that list builds fine and fails only when the image starts. No
Docker daemon is needed: the binary's DT_NEEDED entries are resolved with ldd, mapped to
their Debian packages with dpkg -S, and each must be in the stage's install list or among
the Depends of what it installs (apt-cache depends, followed recursively).

usage: check_image_packages.py BINARY DOCKERFILE
"""
import re
import subprocess
import sys


def needed_libraries(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def resolved_paths(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m:
            paths[m.group(1)] = m.group(2)
    return paths


def package_of(path):
    out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if out.returncode != 0:  # /lib is a link to /usr/lib on Debian 12: try the other spelling
        other = path[4:] if path.startswith("/usr/") else "/usr" + path
        out = subprocess.run(["dpkg", "-S", other], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return out.stdout.split(":")[0].strip()


def runtime_install_list(dockerfile):
    text = open(dockerfile).read().replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.M)
    last = stages[-1]
    packages = set()
    for cmd in re.findall(r"apt-get install ([^&\n]*)", last):
        packages.update(w for w in cmd.split() if not w.startswith("-"))
    return packages


def closure(packages):
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
         "--no-breaks", "--no-replaces", "--no-enhances", *sorted(packages)],
        capture_output=True, text=True, check=True).stdout
    found = set(packages)
    for line in out.splitlines():
        m = re.match(r"\s*(?:\|)?(?:Pre)?Depends: <?([^>\s]+)>?", line)
        if m:
            found.add(m.group(1).split(":")[0])
        elif not line.startswith(" "):
            found.add(line.strip().split(":")[0])
    return found


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, dockerfile = sys.argv[1:]
    listed = runtime_install_list(dockerfile)
    if not listed:
        print(f"{dockerfile}: no apt-get install in the last stage")
        return 1
    available = closure(listed)
    paths = resolved_paths(binary)
    missing = []
    for lib in needed_libraries(binary):
        path = paths.get(lib)
        package = package_of(path) if path else None
        if package is None:
            missing.append(f"{lib} (no Debian package owns it here)")
        elif package not in available:
            missing.append(f"{lib} from {package}")
    if missing:
        print(f"{dockerfile}: the runtime stage does not install what {binary} needs:")
        for m in missing:
            print(f"  {m}")
        return 1
    print(f"{len(needed_libraries(binary))} libraries, all installed by {dockerfile}'s runtime stage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
