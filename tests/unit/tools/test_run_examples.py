# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation examples runner (tests/examples/run_examples.py): how it finds, marks and places blocks."""

import base64
import hashlib
import importlib.util
import os
import pathlib
import zipfile

import pytest

yaml = pytest.importorskip("yaml")

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "run_examples.py")
_spec = importlib.util.spec_from_file_location("run_examples", SCRIPT)
run_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_examples)

DOCUMENT = """# Title

```yaml
- name: A task
  ansible.builtin.debug:
    msg: hello
```

<!-- example: not-runnable (it needs AWX) -->

```yaml
- name: An AWX task
  awx.awx.job_template:
    name: x
```

- A list item with a block:

  <!-- example: shell -->
  ```sh
  echo indented
  ```

```text
output, not an example
```
"""


def test_markdown_blocks_with_markers_lines_and_indentation():
    blocks = run_examples.markdown_blocks("docs/x.md", DOCUMENT)
    assert [(block.line, block.language, block.marker) for block in blocks] == [
        (4, "yaml", ""),
        (12, "yaml", "not-runnable"),
        (21, "shell", "shell"),
        (25, "text", ""),
    ]
    assert blocks[1].reason == "it needs AWX"
    assert blocks[2].text == "echo indented\n"
    assert blocks[0].runnable_yaml and not blocks[1].runnable_yaml


def test_kinds_of_yaml_blocks():
    def kind(text):
        return run_examples.kind_of(run_examples.Block("d.md", 1, "yaml", text))

    assert kind("- hosts: localhost\n  tasks: []\n") == "playbook"
    assert kind("- ansible.builtin.import_playbook: other.yml\n") == "playbook"
    assert kind("- name: t\n  ansible.builtin.debug: {}\n") == "tasks"
    assert kind("module_defaults:\n  group/layerwise.aws.aws: {region: eu-west-1}\n") == "play-keywords"
    assert kind("vars:\n  ansible_python_interpreter: /usr/bin/python3\n") == "play-keywords"


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 1\ndependencies:\n  python: requirements.txt\n", "neither a playbook"),
        ("- hosts: localhost\n- name: t\n  ansible.builtin.debug: {}\n", "mixes plays and tasks"),
        ("- name: [unclosed\n", "not valid YAML"),
        ("just a string\n", "neither a playbook"),
    ],
)
def test_yaml_that_cannot_run_is_an_error_naming_the_block(text, message):
    block = run_examples.Block("docs/x.md", 7, "yaml", text)
    with pytest.raises(run_examples.ExampleError, match=message) as error:
        run_examples.check_block(block)
    assert "docs/x.md, line 7" in str(error.value)


def test_a_not_runnable_marker_still_needs_valid_yaml():
    block = run_examples.Block("docs/x.md", 3, "yaml", "- name: [unclosed\n", "not-runnable", "reason")
    with pytest.raises(run_examples.ExampleError, match="not valid YAML"):
        run_examples.check_block(block)
    fine = run_examples.Block("docs/x.md", 3, "yaml", "version: 1\n", "not-runnable", "an EE file")
    run_examples.check_block(fine)


def test_every_shell_block_needs_a_marker():
    with pytest.raises(run_examples.ExampleError, match="a shell block without a marker"):
        run_examples.check_block(run_examples.Block("README.md", 5, "shell", "make test\n"))


@pytest.mark.parametrize("value", ["not-runnable", "not-runnable ()", "skip (reason)", "runnable"])
def test_markers_need_a_known_kind_and_a_reason(value):
    with pytest.raises(run_examples.ExampleError, match="unknown example marker"):
        run_examples.parse_marker(value, "README.md, line 1")


def test_a_marker_on_a_text_block_is_an_error():
    text = "<!-- example: shell -->\n```text\nout\n```\n"
    with pytest.raises(run_examples.ExampleError, match="never run"):
        for block in run_examples.markdown_blocks("d.md", text):
            run_examples.check_block(block)


def test_an_unclosed_fence_is_an_error():
    with pytest.raises(run_examples.ExampleError, match="never closed"):
        run_examples.markdown_blocks("d.md", "```yaml\n- name: t\n")


def test_module_examples_keep_the_line_of_the_string():
    source = 'DOCUMENTATION = ""\n\nEXAMPLES = r"""\n- name: T\n  ansible.builtin.debug: {}\n"""\n'
    (block,) = run_examples.module_blocks("plugins/modules/m.py", source)
    assert block.line == 3 and block.text.startswith("\n- name: T")
    marked = source.replace('r"""\n', 'r"""\n# example: not-runnable (needs a real account)\n')
    (block,) = run_examples.module_blocks("plugins/modules/m.py", marked)
    assert block.marker == "not-runnable" and block.reason == "needs a real account"


def test_the_repository_documents_are_all_accounted_for():
    """Every block of the real documents is marked, parses and has a kind: what `run` would check first."""
    runnable = 0
    for document in run_examples.documents():
        for block in run_examples.blocks_of(document):
            runnable += block.runnable_yaml
    assert runnable >= 10


def test_failures_point_into_the_document(tmp_path):
    tasks = run_examples.Block("docs/x.md", 40, "yaml", "- name: a\n  ansible.builtin.debug: {}\n")
    play = run_examples.Block("README.md", 100, "yaml", "- hosts: localhost\n  tasks: []\n")
    files = run_examples.write_playbook(tmp_path, [tasks, play])
    assert sorted(files) == ["README.md-line100.yml", "docs_x.md-line40.tasks.yml", "docs_x.md-line40.yml"]
    assert (tmp_path / "docs_x.md-line40.tasks.yml").read_text() == tasks.text  # verbatim
    output = f"TASK [a]\ntask path: {tmp_path}/docs_x.md-line40.tasks.yml:2\nfatal: [localhost]: FAILED!"
    assert run_examples.locate_failure(output, tmp_path, files) == "docs/x.md, line 41 (in the block at line 40)"
    output = f"ERROR! We were unable to read '{tmp_path}/README.md-line100.yml': line 2, column 3"
    assert run_examples.locate_failure(output, tmp_path, files) == "README.md, line 101 (in the block at line 100)"
    assert run_examples.locate_failure("ERROR! something else", tmp_path, files) is None


def test_fixtures_files_zip_hash_and_directory(tmp_path):
    files = {
        "build/a.zip": {"zip": {"python/a.py": "A = 1\n"}},
        "build/a.zip.sha256": {"sha256_of": "build/a.zip"},
        "build/src/": {"directory": {"python/b.py": "B = 2\n"}},
        "notes.txt": {"text": "hello"},
    }
    run_examples.make_files(tmp_path, files)
    data = (tmp_path / "build/a.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "build/a.zip") as archive:
        assert archive.read("python/a.py") == b"A = 1\n"
    assert (tmp_path / "build/a.zip.sha256").read_text() == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert (tmp_path / "build/src/python/b.py").read_text() == "B = 2\n"
    run_examples.make_files(tmp_path / "again", files)
    assert (tmp_path / "again/build/a.zip").read_bytes() == data  # the same bytes every run


def test_fixtures_of_a_document_add_to_the_common_ones():
    fixtures = {
        "region": "eu-west-1",
        "files": {"a": {"text": "1"}},
        "buckets": {"b": {}},
        "documents": {"docs/x.md": {"files": {"c": {"text": "2"}}, "layers": {"l": {"versions": 2}}, "vars": {"v": 1}}},
    }
    mine = run_examples.fixtures_for(fixtures, "docs/x.md")
    assert mine["files"] == {"a": {"text": "1"}, "c": {"text": "2"}}
    assert mine["layers"] == {"l": {"versions": 2}} and mine["vars"] == {"v": 1}
    assert run_examples.fixtures_for(fixtures, "docs/y.md")["layers"] == {}
    fixtures["documents"]["docs/x.md"]["bucket"] = {}
    with pytest.raises(run_examples.ExampleError, match="unknown keys"):
        run_examples.fixtures_for(fixtures, "docs/x.md")


def test_the_shell_script_runs_blocks_in_order_and_names_the_failing_one(tmp_path, capsys):
    document = tmp_path / "doc.md"
    document.write_text("<!-- example: shell -->\n```sh\nexport A=1\n```\n\n<!-- example: shell -->\n```sh\ntest \"$A\" = 2\n```\n")
    args = type("Args", (), {"document": "doc.md"})
    original = run_examples.ROOT
    run_examples.ROOT = tmp_path
    try:
        run_examples.command_shell_script(args)
    finally:
        run_examples.ROOT = original
    script = capsys.readouterr().out
    assert script.index("export A=1") < script.index('test "$A" = 2')
    result = __import__("subprocess").run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "doc.md: the shell block at line 8 failed" in result.stderr


def test_runs_are_sent_to_the_local_endpoint_only(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("ANSIBLE_FORCE_COLOR", "1")
    environment = run_examples.run_environment("http://127.0.0.1:5000", tmp_path / "c", tmp_path / "k", "eu-west-1", tmp_path)
    assert "AWS_PROFILE" not in environment and "ANSIBLE_FORCE_COLOR" not in environment
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert environment["HTTPS_PROXY"] == run_examples.NOWHERE and "127.0.0.1" in environment["NO_PROXY"]
    assert environment["AWS_SHARED_CREDENTIALS_FILE"] == str(tmp_path / "c")


def test_credentials_hold_every_profile(tmp_path):
    credentials, config = run_examples.write_credentials(tmp_path, ["deploy"], "eu-west-1")
    assert "[default]" in credentials.read_text() and "[deploy]" in credentials.read_text()
    assert "[profile deploy]\nregion = eu-west-1" in config.read_text()
    assert pathlib.Path(credentials).stat().st_mode & 0o077 == 0
