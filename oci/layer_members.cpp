#include "oci/layer_members.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <functional>
#include <memory>

#include <fmt/core.h>

#include "base/strings.hpp"
#include "oci/layer_apply.hpp"
#include "oci/layer_reader.hpp"

namespace kiln::oci {

namespace {

struct ReadContext
{
  LayerReader* reader = nullptr;
  std::vector<unsigned char> buffer = std::vector<unsigned char>(1 << 20);
  std::string error;
};

la_ssize_t read_callback(archive* a, void* data, const void** buffer)
{
  auto* ctx = static_cast<ReadContext*>(data);
  auto n = ctx->reader->read(ctx->buffer.data(), ctx->buffer.size());
  if (!n) {
    ctx->error = n.error();
    archive_set_error(a, EIO, "%s", ctx->error.c_str());
    return -1;
  }
  *buffer = ctx->buffer.data();
  return static_cast<la_ssize_t>(*n);
}

char type_of(archive_entry* e)
{
  if (archive_entry_hardlink(e) != nullptr) {
    return '1';
  }
  switch (archive_entry_filetype(e)) {
  case AE_IFDIR: return '5';
  case AE_IFLNK: return '2';
  case AE_IFCHR: return '3';
  case AE_IFBLK: return '4';
  case AE_IFIFO: return '6';
  default: return '0';
  }
}

// Reads every member of the layer, calling visit(member, content) where
// content is the file's bytes for regular files `want` selects, and its
// digest in member.content for all regular files.
Result<void> scan_layer(const Layout& layout, const Descriptor& layer,
                        const std::function<bool(const LayerMember&)>& want,
                        const std::function<void(LayerMember&&, std::string&&)>& visit)
{
  auto blob = layout.open_blob(layer.digest);
  if (!blob) {
    return fail(blob.error());
  }
  LayerReader reader(std::move(*blob), layer.digest.short_str(), ExpectedDigests{std::nullopt, layer.digest});
  ReadContext ctx;
  ctx.reader = &reader;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  auto archive_error = [&](std::string_view what) {
    return fail(ctx.error.empty() ? fmt::format("read layer {}: {}: {}", layer.digest.short_str(), what,
                                                archive_error_string(a.get()))
                                  : ctx.error);
  };
  if (archive_read_open(a.get(), &ctx, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
    return archive_error("not a tar stream");
  }
  std::vector<char> data(1 << 20);
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc < ARCHIVE_WARN) {
      return archive_error("bad tar header");
    }
    LayerMember member;
    member.path = archive_entry_pathname(e) != nullptr ? archive_entry_pathname(e) : "";
    member.type = type_of(e);
    member.mode = archive_entry_perm(e);
    member.uid = archive_entry_uid(e);
    member.gid = archive_entry_gid(e);
    member.mtime = archive_entry_mtime(e);
    member.size = archive_entry_size(e);
    const char* link = member.type == '1' ? archive_entry_hardlink(e) : archive_entry_symlink(e);
    member.link = link != nullptr ? link : "";
    archive_entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      member.xattrs += fmt::format("{}={};", name, hex_encode({static_cast<const unsigned char*>(value), size}));
    }
    std::string content;
    if (member.type == '0') {
      bool keep = want && want(member);
      Hasher hasher;
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), data.data(), data.size());
        if (n < 0) {
          return archive_error(fmt::format("read \"{}\"", member.path));
        }
        if (n == 0) {
          break;
        }
        hasher.update(data.data(), static_cast<size_t>(n));
        if (keep) {
          content.append(data.data(), static_cast<size_t>(n));
        }
      }
      member.content = hasher.finish().str();
    }
    visit(std::move(member), std::move(content));
  }
  // Read to the end, so the digest check has run.
  while (true) {
    auto n = reader.read(ctx.buffer.data(), ctx.buffer.size());
    if (!n) {
      return fail(n.error());
    }
    if (*n == 0) {
      break;
    }
  }
  return {};
}

} // namespace

Result<std::vector<LayerMember>> list_layer_members(const Layout& layout, const Descriptor& layer)
{
  std::vector<LayerMember> members;
  auto scanned = scan_layer(layout, layer, {}, [&](LayerMember&& member, std::string&&) {
    members.push_back(std::move(member));
  });
  if (!scanned) {
    return fail(scanned.error());
  }
  return members;
}

Result<std::optional<std::string>> read_layer_file(const Layout& layout, const Descriptor& layer,
                                                   const std::string& path)
{
  std::optional<std::string> found;
  auto wanted = [&](const LayerMember& member) { return clean_member_path(member.path) == path; };
  auto scanned = scan_layer(layout, layer, wanted, [&](LayerMember&& member, std::string&& content) {
    if (member.type == '0' && clean_member_path(member.path) == path) {
      found = std::move(content);
    }
  });
  if (!scanned) {
    return fail(scanned.error());
  }
  return found;
}

std::string first_member_difference(const std::vector<LayerMember>& a, const std::vector<LayerMember>& b)
{
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.path != y.path) {
      return fmt::format("member {}: \"{}\" vs \"{}\" (different files or order)", i + 1, x.path, y.path);
    }
    auto field = [&](std::string_view name, const auto& p, const auto& q) -> std::string {
      return p == q ? std::string() : fmt::format("{}: {} {} vs {}", x.path, name, p, q);
    };
    for (auto diff : {field("type", x.type, y.type), field("mode", fmt::format("{:o}", x.mode), fmt::format("{:o}", y.mode)),
                      field("owner", fmt::format("{}:{}", x.uid, x.gid), fmt::format("{}:{}", y.uid, y.gid)),
                      field("mtime", x.mtime, y.mtime), field("size", x.size, y.size), field("link", x.link, y.link),
                      field("xattrs", x.xattrs, y.xattrs), field("content", x.content, y.content)}) {
      if (!diff.empty()) {
        return diff;
      }
    }
  }
  if (a.size() != b.size()) {
    const auto& longer = a.size() > b.size() ? a : b;
    return fmt::format("\"{}\" is only in the {} build", longer[n].path, a.size() > b.size() ? "first" : "second");
  }
  return "";
}

} // namespace kiln::oci
