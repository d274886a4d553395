"""Fail CI when a tracked file holds something shaped like a secret.

Runs detect-secrets over every file git tracks (keyword detector off, see
below). A test that needs a recognisable fake secret
marks its line with ``# pragma: allowlist secret``; anything else found is a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    files = [f for f in files if f and not f.endswith((".png", ".jpg", ".ico", ".gz"))]
    out = subprocess.run(
        # The keyword detector flags every identifier named like ``api_key`` in an SDK about
        # API keys; the entropy and vendor-pattern detectors (OpenAI, AWS, GitHub, ...) stay on.
        [
            "detect-secrets",
            "scan",
            "--disable-plugin",
            "KeywordDetector",
            # The tutorial's model path, quoted in docs/from-the-tutorial.md, reads as base64.
            "--exclude-lines",
            "autodl-tmp/model",
            *files,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    results = json.loads(out)["results"]
    for path, findings in sorted(results.items()):
        for finding in findings:
            print(f"{path}:{finding['line_number']}: {finding['type']}")
    if results:
        print(f"secret scan: {sum(map(len, results.values()))} finding(s)", file=sys.stderr)
        return 1
    print(f"secret scan: {len(files)} files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
