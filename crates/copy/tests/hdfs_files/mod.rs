//! Test files written to HDFS with hdfs-native (shared with crates/cli/tests/copy.rs).

use std::time::Duration;

/// Writes `data` to `path` (made with its parents; `block`: the block size), from the start
/// again while the NameNode answers `NotReplicatedYetException`: on a loaded host its DataNode
/// may not have reported the file's previous block yet. Hadoop's own client retries that;
/// hdfs-native does not. Panics on any other error.
pub async fn write_hdfs_file(
    client: &hdfs_native::Client,
    path: &str,
    data: &[u8],
    block: Option<u64>,
) {
    for attempt in 1u64.. {
        let mut options = hdfs_native::WriteOptions::default().create_parent(true);
        if let Some(block) = block {
            options = options.block_size(block);
        }
        let written = async {
            let mut writer = client.create(path, options).await?;
            writer
                .write_bytes(bytes::Bytes::copy_from_slice(data))
                .await?;
            writer.close().await
        }
        .await;
        match written {
            Ok(()) => return,
            Err(e) if attempt < 10 && e.to_string().contains("NotReplicatedYet") => {
                // The half-written file holds our lease: delete it to create it again.
                let _ = client.delete(path, false).await;
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            Err(e) => panic!("writing {path} to HDFS: {e}"),
        }
    }
}
