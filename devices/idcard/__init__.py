"""Second-generation resident ID cards through serial readers (SAM-based, GB 19-standard frame
protocol): the frame codec, a pyserial backend and a simulator on a pseudo-terminal."""
