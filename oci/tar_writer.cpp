#include "oci/tar_writer.hpp"

#include <cstring>

#include <fmt/core.h>

namespace kiln::oci {

namespace {

constexpr uint64_t k_max_octal_11 = 077777777777ULL; // size and mtime fields
constexpr uint64_t k_max_octal_7 = 07777777ULL;      // mode, uid, gid fields

void put_octal(char* field, size_t width, uint64_t value)
{
  // width-1 zero-padded digits and a NUL, as GNU tar and Go's archive/tar do.
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

void put_string(char* field, size_t width, std::string_view value)
{
  std::memcpy(field, value.data(), std::min(width, value.size()));
}

void add_record(std::string& records, std::string_view key, std::string_view value)
{
  // The length prefix counts its own digits, so iterate to the fixed point.
  size_t body = key.size() + value.size() + 3; // ' ', '=', '\n'
  size_t length = body + 1;
  while (body + fmt::formatted_size("{}", length) != length) {
    length = body + fmt::formatted_size("{}", length);
  }
  records += fmt::format("{} {}={}\n", length, key, value);
}

std::string ustar_block(std::string_view name, char flag, uint32_t mode, uint64_t uid, uint64_t gid,
                        uint64_t size, uint64_t mtime, std::string_view linkname, uint32_t major,
                        uint32_t minor)
{
  std::string block(512, '\0');
  char* h = block.data();
  put_string(h + 0, 100, name);
  put_octal(h + 100, 8, mode & 07777);
  put_octal(h + 108, 8, uid > k_max_octal_7 ? 0 : uid);
  put_octal(h + 116, 8, gid > k_max_octal_7 ? 0 : gid);
  put_octal(h + 124, 12, size > k_max_octal_11 ? 0 : size);
  put_octal(h + 136, 12, mtime > k_max_octal_11 ? 0 : mtime);
  h[156] = flag;
  put_string(h + 157, 100, linkname);
  std::memcpy(h + 257, "ustar\0" "00", 8);
  // uname (265) and gname (297) stay empty: ids are numeric.
  put_octal(h + 329, 8, major);
  put_octal(h + 337, 8, minor);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) {
    sum += c;
  }
  std::string checksum = fmt::format("{:06o}", sum);
  std::memcpy(h + 148, checksum.data(), 6);
  h[154] = '\0';
  h[155] = ' ';
  return block;
}

std::string_view base_name(std::string_view name)
{
  while (!name.empty() && name.back() == '/') {
    name.remove_suffix(1);
  }
  size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

} // namespace

char type_flag(EntryType type)
{
  switch (type) {
  case EntryType::regular: return '0';
  case EntryType::hardlink: return '1';
  case EntryType::symlink: return '2';
  case EntryType::char_device: return '3';
  case EntryType::block_device: return '4';
  case EntryType::directory: return '5';
  case EntryType::fifo: return '6';
  }
  return '0';
}

std::string tar_header(const LayerEntry& entry, std::string_view name, int64_t mtime)
{
  const bool is_file = entry.type == EntryType::regular;
  const uint64_t size = is_file ? entry.size : 0;
  std::string_view linkname = entry.type == EntryType::hardlink  ? std::string_view(entry.hardlink_target)
                              : entry.type == EntryType::symlink ? std::string_view(entry.link_target)
                                                                 : std::string_view();
  std::string records;
  if (name.size() > 100) {
    add_record(records, "path", name);
  }
  if (linkname.size() > 100) {
    add_record(records, "linkpath", linkname);
  }
  if (size > k_max_octal_11) {
    add_record(records, "size", fmt::format("{}", size));
  }
  if (entry.uid > k_max_octal_7) {
    add_record(records, "uid", fmt::format("{}", entry.uid));
  }
  if (entry.gid > k_max_octal_7) {
    add_record(records, "gid", fmt::format("{}", entry.gid));
  }
  if (mtime < 0 || static_cast<uint64_t>(mtime) > k_max_octal_11) {
    add_record(records, "mtime", fmt::format("{}", mtime));
  }
  for (const auto& [key, value] : entry.xattrs) {
    add_record(records, "SCHILY.xattr." + key, value);
  }

  const bool is_device = entry.type == EntryType::char_device || entry.type == EntryType::block_device;
  std::string out;
  if (!records.empty()) {
    std::string pax_name = fmt::format("PaxHeaders/{}", base_name(name));
    if (pax_name.size() > 100) {
      pax_name.resize(100);
    }
    out = ustar_block(pax_name, 'x', 0644, 0, 0, records.size(), mtime < 0 ? 0 : mtime, {}, 0, 0);
    out += records;
    out.append(tar_padding(records.size()), '\0');
  }
  out += ustar_block(name, type_flag(entry.type), entry.mode, entry.uid, entry.gid, size,
                     mtime < 0 ? 0 : static_cast<uint64_t>(mtime), linkname,
                     is_device ? entry.dev_major : 0, is_device ? entry.dev_minor : 0);
  return out;
}

} // namespace kiln::oci
