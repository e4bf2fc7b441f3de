"""Frame sources: video files and folders of images behind one function, streamed."""

from meflow.io.frames import FrameSource, VideoInfo, open_frames, read_image

__all__ = ["FrameSource", "VideoInfo", "open_frames", "read_image"]
