"""`scripts.site.reusing_outputs`: while MkDocs builds into a fresh folder, a file with the bytes of the previous
build's file at the same place is hard-linked from it; nothing is ever written through into the previous build."""

import os

from mkdocs import utils

from scripts.site import reusing_outputs


def _old_and_new(tmp_path):
    old, new = tmp_path / "site", tmp_path / "site.tmp"
    (old / "a").mkdir(parents=True)
    (old / "a" / "same.html").write_bytes(b"<p>same</p>")
    (old / "a" / "changed.html").write_bytes(b"<p>old</p>")
    (old / "style.css").write_bytes(b"body{}")
    new.mkdir()
    return old, new


def test_unchanged_outputs_are_links_to_the_previous_build_and_changed_ones_new_files(tmp_path):
    old, new = _old_and_new(tmp_path)
    source = tmp_path / "docs" / "style.css"
    source.parent.mkdir()
    source.write_bytes(b"body{}")
    other = tmp_path / "docs" / "new.css"
    other.write_bytes(b"p{}")
    with reusing_outputs(new, old):
        utils.write_file(b"<p>same</p>", str(new / "a" / "same.html"))
        utils.write_file(b"<p>new</p>", str(new / "a" / "changed.html"))
        utils.copy_file(str(source), str(new / "style.css"))
        utils.copy_file(str(other), str(new / "b" / "new.css"))  # no old file there, folder made
    assert os.path.samefile(new / "a" / "same.html", old / "a" / "same.html")
    assert os.path.samefile(new / "style.css", old / "style.css")
    assert not os.path.samefile(new / "style.css", source)  # never linked to a source file
    assert (new / "a" / "changed.html").read_bytes() == b"<p>new</p>"
    assert (old / "a" / "changed.html").read_bytes() == b"<p>old</p>"
    assert (new / "b" / "new.css").read_bytes() == b"p{}"


def test_a_path_written_twice_never_writes_into_the_previous_build(tmp_path):
    """Each language build copies the shared assets again: the second write replaces the link, not its file."""
    old, new = _old_and_new(tmp_path)
    with reusing_outputs(new, old):
        utils.write_file(b"<p>same</p>", str(new / "a" / "same.html"))  # linked
        utils.write_file(b"<p>second</p>", str(new / "a" / "same.html"))
    assert (old / "a" / "same.html").read_bytes() == b"<p>same</p>"
    assert (new / "a" / "same.html").read_bytes() == b"<p>second</p>"


def test_mkdocs_functions_are_restored_even_when_the_build_fails(tmp_path):
    old, new = _old_and_new(tmp_path)
    before = utils.copy_file, utils.write_file
    try:
        with reusing_outputs(new, old):
            assert utils.write_file is not before[1]
            raise RuntimeError("build failed")
    except RuntimeError:
        pass
    assert (utils.copy_file, utils.write_file) == before
    assert (old / "a" / "same.html").read_bytes() == b"<p>same</p>"
