"""Kernel setup code, run before the notebook: the course's environment, without a network.

* **Offline URLs.** Real notebooks read the Iris data from the UCI URL. The setup code makes
  ``pandas.read_csv(URL)`` and ``urllib.request.urlopen(URL)`` read the bundled copy instead;
  any other URL fails as it would offline.
* **The course's environment** (``compat``). The course ran on NumPy before 1.24, where
  ``np.int``, ``np.float``, ``np.object`` (and ``np.bool``, ``np.complex``, ``np.str``) were
  the builtins; the handout's own demo cell uses ``np.int``. They behave as they did, and the
  week-3 handout's ``pd.read_csv(URL, eader=None)`` (a typo of ``header=``) reads as meant.
  Each use is recorded in ``sys.modules["_grader_compat"].used`` for the result's notes.
"""

from __future__ import annotations

_TEMPLATE = r'''
def _grader_setup(serve, compat):
    import importlib.abc, importlib.util, io, os, sys, types, urllib.request
    serve = {k.strip(): os.path.abspath(v) for k, v in serve.items()}
    state = types.ModuleType("_grader_compat")
    state.used = []
    sys.modules["_grader_compat"] = state

    def used(what):
        if what not in state.used and len(state.used) < 50:
            state.used.append(what)

    def redirect(src):
        if isinstance(src, str) and src.strip() in serve:
            return serve[src.strip()]
        return src

    def patch_pandas(pd):
        orig = pd.read_csv
        if getattr(orig, "_grader_offline", False):
            return
        def read_csv(filepath_or_buffer, *args, **kwargs):
            if compat and "eader" in kwargs and "header" not in kwargs:
                kwargs["header"] = kwargs.pop("eader")
                used("read_csv(eader=)")
            return orig(redirect(filepath_or_buffer), *args, **kwargs)
        read_csv._grader_offline = True
        read_csv.__doc__ = orig.__doc__
        pd.read_csv = read_csv

    def patch_numpy(np):
        aliases = {"int": int, "float": float, "bool": bool, "object": object, "complex": complex, "str": str}
        aliases = {k: v for k, v in aliases.items() if k not in vars(np)}  # NumPy 2 has np.bool again
        orig = vars(np).get("__getattr__")
        def __getattr__(name):
            if name in aliases:
                used("np." + name)
                return aliases[name]
            if orig is None:
                raise AttributeError("module 'numpy' has no attribute %%r" %% (name,))
            return orig(name)
        np.__getattr__ = __getattr__

    if serve:
        orig_urlopen = urllib.request.urlopen
        def urlopen(url, *args, **kwargs):
            target = redirect(url if isinstance(url, str) else getattr(url, "full_url", url))
            if isinstance(target, str) and os.path.isfile(target):
                with open(target, "rb") as fh:
                    return io.BytesIO(fh.read())
            return orig_urlopen(url, *args, **kwargs)
        urllib.request.urlopen = urlopen

    if compat:
        import numpy
        patch_numpy(numpy)
    if not serve and not compat:
        return
    if "pandas" in sys.modules:
        patch_pandas(sys.modules["pandas"])
        return

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "pandas":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module
            def exec_and_patch(module):
                exec_module(module)
                patch_pandas(module)
            spec.loader.exec_module = exec_and_patch
            return spec
    sys.meta_path.insert(0, Finder())

_grader_setup(%r, %r)
del _grader_setup
'''


def setup_code(serve_urls: dict[str, str], compat: bool = False) -> str:
    """Code for the kernel; empty when there is nothing to set up."""
    if not serve_urls and not compat:
        return ""
    return _TEMPLATE % (dict(serve_urls), bool(compat))
