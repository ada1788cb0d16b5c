#pragma once

// Builds small root filesystems for tests under a temporary directory.

#include "base/fileio.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <string>
#include <string_view>

class RootfsFixture
{
public:
  RootfsFixture() : m_dir(std::filesystem::temp_directory_path()) {}

  const std::filesystem::path& path() const { return m_dir.path(); }

  void put(std::string_view rel, std::string_view content) const
  {
    auto p = m_dir.path() / rel;
    std::filesystem::create_directories(p.parent_path());
    REQUIRE(kiln::write_file_atomic(p, content, kiln::Durable::no));
  }

  void link(std::string_view rel, std::string_view target) const
  {
    auto p = m_dir.path() / rel;
    std::filesystem::create_directories(p.parent_path());
    std::filesystem::create_symlink(std::string(target), p);
  }

private:
  kiln::TempDir m_dir;
};
