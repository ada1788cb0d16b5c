#pragma once

// Test helpers: LayerEntries with in-memory content.

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "base/fileio.hpp"
#include "oci/layer_entry.hpp"

constexpr int64_t k_fixture_mtime = 1700000000;

inline kiln::oci::LayerEntry file(std::string path, std::string content, uint32_t mode = 0644)
{
  kiln::oci::LayerEntry e;
  e.path = std::move(path);
  e.type = kiln::oci::EntryType::regular;
  e.mode = mode;
  e.size = content.size();
  e.mtime = k_fixture_mtime;
  e.open = [content]() -> kiln::Result<kiln::Fd> {
    kiln::Fd fd(::memfd_create("layer-test", MFD_CLOEXEC));
    if (!fd || !kiln::write_all(fd.get(), content.data(), content.size()) || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
      return kiln::fail("memfd");
    }
    return fd;
  };
  return e;
}

inline kiln::oci::LayerEntry node(std::string path, kiln::oci::EntryType type, uint32_t mode = 0755)
{
  kiln::oci::LayerEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.mtime = k_fixture_mtime;
  return e;
}
