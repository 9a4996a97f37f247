// key_file_test.cc: key files are created 0600, never overwritten, and refused when others may
// read them, when they are not regular files, or when they hold anything but one key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "crypto/keys.h"

namespace vdemesh::crypto {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "vdemesh-keyfile-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `content` with `mode` exactly (bypassing WriteKeyFile, to test the reader alone).
  std::string WriteRaw(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
};

const std::string kKeyText = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

TEST_F(KeyFileTest, WrittenKeyReadsBack) {
  const NetworkKey key = GenerateNetworkKey();
  std::string err;
  ASSERT_TRUE(WriteKeyFile(Path("net.key"), key.span(), &err)) << err;
  const auto read = ReadKeyFile(Path("net.key"), &err);
  ASSERT_TRUE(read.has_value()) << err;
  EXPECT_TRUE(read->Equals(key));
}

TEST_F(KeyFileTest, WrittenFileIsMode0600WhateverTheUmask) {
  const mode_t old_umask = ::umask(0);
  std::string err;
  const bool ok = WriteKeyFile(Path("host.key"), GenerateKeyPair().private_key.span(), &err);
  ::umask(old_umask);
  ASSERT_TRUE(ok) << err;
  struct stat st;
  ASSERT_EQ(::stat(Path("host.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(KeyFileTest, WriteRefusesToOverwriteAnExistingFile) {
  const std::string path = WriteRaw("existing", "precious\n");
  std::string err;
  EXPECT_FALSE(WriteKeyFile(path, GenerateNetworkKey().span(), &err));
  EXPECT_NE(err.find("already exists"), std::string::npos) << err;
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious\n");
}

TEST_F(KeyFileTest, WriteRefusesASymlink) {
  const std::string target = Path("target");
  ASSERT_EQ(::symlink(target.c_str(), Path("link").c_str()), 0);
  std::string err;
  EXPECT_FALSE(WriteKeyFile(Path("link"), GenerateNetworkKey().span(), &err));
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(KeyFileTest, ReadRefusesAnyGroupOrOtherPermissionAndSaysHowToFixIt) {
  for (const mode_t mode : {0640, 0604, 0620, 0602, 0610, 0601, 0644, 0660, 0777}) {
    const std::string path = WriteRaw("k" + std::to_string(mode), kKeyText + "\n", mode);
    std::string err;
    EXPECT_FALSE(ReadKeyFile(path, &err).has_value()) << std::oct << mode;
    EXPECT_NE(err.find("group or others"), std::string::npos) << err;
    EXPECT_NE(err.find("run: chmod 600 " + path), std::string::npos) << err;
  }
  std::string err;
  const std::string path = WriteRaw("k644", kKeyText, 0644);
  ASSERT_FALSE(ReadKeyFile(path, &err).has_value());
  EXPECT_EQ(err, "key file " + path +
                     " is accessible to group or others (mode 0644); run: chmod 600 " + path);
}

TEST_F(KeyFileTest, ReadAcceptsOwnerOnlyModes) {
  for (const mode_t mode : {0600, 0400, 0700}) {
    const std::string path = WriteRaw("ok" + std::to_string(mode), kKeyText + "\n", mode);
    std::string err;
    EXPECT_TRUE(ReadKeyFile(path, &err).has_value()) << std::oct << mode << ": " << err;
  }
}

TEST_F(KeyFileTest, ReadRefusesADirectory) {
  ASSERT_EQ(::mkdir(Path("dir").c_str(), 0700), 0);
  std::string err;
  EXPECT_FALSE(ReadKeyFile(Path("dir"), &err).has_value());
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST_F(KeyFileTest, ReadRefusesAFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  std::string err;
  EXPECT_FALSE(ReadKeyFile(Path("fifo"), &err).has_value());
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST_F(KeyFileTest, ReadReportsAMissingFileByPath) {
  std::string err;
  EXPECT_FALSE(ReadKeyFile(Path("missing"), &err).has_value());
  EXPECT_NE(err.find(Path("missing")), std::string::npos) << err;
}

TEST_F(KeyFileTest, ReadIgnoresSurroundingWhitespace) {
  for (const std::string& content :
       {kKeyText, kKeyText + "\n", "  " + kKeyText + " \r\n\n", "\n\t" + kKeyText + "\t"}) {
    std::string err;
    const auto key = ReadKeyFile(WriteRaw("ws", content), &err);
    ASSERT_TRUE(key.has_value()) << "'" << content << "': " << err;
    EXPECT_EQ(EncodeBase64Key(key->span()), kKeyText);
    std::filesystem::remove(Path("ws"));
  }
}

TEST_F(KeyFileTest, ReadRejectsAnythingButOneKeyWithoutEchoingIt) {
  const std::string cases[] = {
      "",
      "\n",
      kKeyText.substr(0, 43) + "\n",
      kKeyText + "A\n",
      kKeyText + "\n" + kKeyText + "\n",
      kKeyText + " # host key\n",
      "key = " + kKeyText + "\n",
      kKeyText.substr(0, 20) + "!" + kKeyText.substr(21) + "\n",
      std::string(1000, 'A'),
  };
  for (const std::string& content : cases) {
    std::string err;
    EXPECT_FALSE(ReadKeyFile(WriteRaw("bad", content), &err).has_value()) << "'" << content;
    EXPECT_FALSE(err.empty());
    EXPECT_EQ(err.find(kKeyText.substr(0, 12)), std::string::npos) << err;
    std::filesystem::remove(Path("bad"));
  }
}

}  // namespace
}  // namespace vdemesh::crypto
