# The projections layer's domain seam: no source file of projections/ outside a domain's folder
# names that domain (its types, headers or namespace), except the list of domains in catalog.cpp
# (the domain's include and its line) and the domain's subdir() in meson.build. A new domain is a
# new folder plus those lines; everything else is shared machinery.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root/projections" || exit 1
status=0
for dir in */; do
  domain=${dir%/}
  # The word alone or inside a name (catalog_product, product_detail), any case; not a longer
  # word that starts with it (production).
  pattern="(^|[^A-Za-z0-9])${domain}s?($|[^A-Za-z])"
  hits=$(grep -rniE "$pattern" --include='*.hpp' --include='*.cpp' --include='meson.build' --exclude-dir="$domain" . |
    grep -vE "^\./catalog\.cpp:[0-9]+:(#include \"projections/${domain}/[a-z_]+\.hpp\"|    ${domain}::register_projections,)$" |
    grep -vE "^\./meson\.build:[0-9]+:subdir\('${domain}'\)$")
  if [ -n "$hits" ]; then
    echo "projections/ names the domain '$domain' outside projections/$domain/ and the list of domains:" >&2
    echo "$hits" >&2
    status=1
  fi
done
exit $status
