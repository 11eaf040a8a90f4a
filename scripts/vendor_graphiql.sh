#!/usr/bin/env bash
# Re-vendor GraphiQL's browser assets into config/static/graphiql/<package>-<version>/.
#
# Strawberry's stock GraphiQL page loads React, js-cookie, GraphiQL and the
# explorer plugin from unpkg.com. config/templates/graphql/graphiql.html
# serves the very same files from our static files instead, so the IDE works
# without internet access. This script fetches the packages from the npm
# registry (`npm pack`), copies the files unpkg would serve plus each
# package's licence, and checks every file's sha384 against the SRI hash the
# template (and strawberry's own template) pins. Nothing is written unless
# every hash matches.
#
# Usage: scripts/vendor_graphiql.sh        (needs npm, tar and openssl)
#
# When strawberry is upgraded and its template pins other versions, update
# ASSETS below and the <script>/<link> tags in our template, then re-run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/config/static/graphiql"
TEMPLATE="$ROOT/config/templates/graphql/graphiql.html"

# package@version | path inside the package | sha384 (as in the SRI attribute)
ASSETS=(
  "react@18.2.0|umd/react.production.min.js|tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"
  "react-dom@18.2.0|umd/react-dom.production.min.js|bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"
  "js-cookie@3.0.5|dist/js.cookie.min.js|/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN"
  "graphiql@3.8.3|graphiql.min.js|HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
  "graphiql@3.8.3|graphiql.min.css|Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
  "@graphiql/plugin-explorer@1.0.2|dist/index.umd.js|2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"
  "@graphiql/plugin-explorer@1.0.2|dist/style.css|5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi"
)
# @graphiql/plugin-explorer's tarball has no LICENSE file (package.json says
# MIT). Its licence is the graphql/graphiql monorepo's, which graphiql's
# tarball carries; its UMD bundle also inlines graphiql-explorer, whose
# licence is appended.
EXPLORER="@graphiql/plugin-explorer@1.0.2"
EXPLORER_LICENSE_FROM="graphiql@3.8.3"
EXPLORER_BUNDLED="graphiql-explorer@0.9.0"

sha384() { openssl dgst -sha384 -binary "$1" | openssl base64 -A; }
# Folder for a package under $DEST, named like its npm tarball and free of "@"
# (which static URLs would percent-encode): @graphiql/plugin-explorer@1.0.2
# -> graphiql-plugin-explorer-1.0.2.
folder() { local s="${1#@}"; s="${s//\//-}"; echo "${s//@/-}"; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/stage"
mkdir -p "$STAGE"

# Unpack each package once, into $WORK/pkg/<package@version>/.
unpack() {
  local spec="$1" dir="$WORK/pkg/$1"
  [[ -d "$dir" ]] && return 0
  mkdir -p "$dir"
  local tarball
  tarball="$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)"
  tar -xzf "$WORK/$tarball" -C "$dir" --strip-components=1
}

status=0
for entry in "${ASSETS[@]}"; do
  IFS='|' read -r spec path expected <<<"$entry"
  unpack "$spec"
  src="$WORK/pkg/$spec/$path"
  out="$STAGE/$(folder "$spec")"
  mkdir -p "$(dirname "$out/$path")"
  cp "$src" "$out/$path"
  if [[ -f "$WORK/pkg/$spec/LICENSE" ]]; then
    cp "$WORK/pkg/$spec/LICENSE" "$out/LICENSE"
  fi
  actual="$(sha384 "$src")"
  if [[ "$actual" == "$expected" ]]; then
    verdict="OK"
  else
    verdict="MISMATCH (expected sha384-$expected)"
    status=1
  fi
  printf '%-34s %-34s %9d bytes  sha384-%s  %s\n' \
    "$spec" "$path" "$(wc -c <"$src")" "$actual" "$verdict"
  # The template must pin the same hash, or the browser refuses the file.
  if [[ -f "$TEMPLATE" ]] && ! grep -qF "sha384-$expected" "$TEMPLATE"; then
    echo "  $TEMPLATE does not pin sha384-$expected" >&2
    status=1
  fi
done

# Cross-check against strawberry's own template, if it is installed.
STRAWBERRY_TEMPLATE="$(ls "$ROOT"/.venv/lib/python3*/site-packages/strawberry/static/graphiql.html 2>/dev/null | head -n 1 || true)"
if [[ -n "$STRAWBERRY_TEMPLATE" ]]; then
  for entry in "${ASSETS[@]}"; do
    IFS='|' read -r spec path expected <<<"$entry"
    if ! grep -qF "sha384-$expected" "$STRAWBERRY_TEMPLATE"; then
      echo "strawberry's template no longer pins $spec/$path (sha384-$expected); update this script" >&2
      status=1
    fi
  done
fi

if [[ "$status" -ne 0 ]]; then
  echo "Verification failed; $DEST left unchanged." >&2
  exit 1
fi

unpack "$EXPLORER_LICENSE_FROM"
unpack "$EXPLORER_BUNDLED"
{
  echo "$EXPLORER is MIT-licensed (package.json); its npm tarball has no LICENSE"
  echo "file, so this is the licence of its source repository, github.com/graphql/graphiql"
  echo "(copied from $EXPLORER_LICENSE_FROM), followed by the licence of $EXPLORER_BUNDLED,"
  echo "which dist/index.umd.js bundles."
  echo
  cat "$WORK/pkg/$EXPLORER_LICENSE_FROM/LICENSE"
  echo
  echo "----------------------------------------------------------------------"
  echo "$EXPLORER_BUNDLED"
  echo "----------------------------------------------------------------------"
  echo
  cat "$WORK/pkg/$EXPLORER_BUNDLED/LICENSE"
} >"$STAGE/$(folder "$EXPLORER")/LICENSE"

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -R "$STAGE" "$DEST"
echo "Vendored into ${DEST#"$ROOT"/}:"
(cd "$DEST" && find . -type f | sort | sed 's|^\./|  |')
