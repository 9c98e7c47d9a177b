import QtQuick

// How the service works, in pictures that move by themselves on the Welcome screen: tap the
// big button, wait a moment, the interpreter appears and signs, rate with a face. One step at a
// time on a light card; the words under it say the same as the picture.
Item {
    id: how
    property real u: 1
    property int step: 0
    readonly property int steps: 4
    readonly property real cardSize: Math.min(width, height - caption.height - dots.height - 2 * layout.spacing)
    readonly property var captions: [
        qsTr("点大按钮"),
        qsTr("稍等一下"),
        qsTr("翻译员出现，和您打手语"),
        qsTr("点一张脸，说说满不满意")
    ]

    Accessible.role: Accessible.Animation
    Accessible.name: qsTr("怎么用") + ": " + captions.join(", ")

    // from the first step again whenever Welcome comes back
    onVisibleChanged: if (visible) { step = 0; timer.restart() }

    Timer {
        id: timer
        objectName: "howItWorksTimer"
        interval: 2800
        repeat: true
        running: how.visible
        onTriggered: how.step = (how.step + 1) % how.steps
    }

    Column {
        id: layout
        anchors.centerIn: parent
        spacing: 16 * how.u

        Rectangle {
            id: card
            width: Math.max(0, how.cardSize)
            height: width
            anchors.horizontalCenter: parent.horizontalCenter
            radius: Theme.radius * how.u
            color: Theme.neutral
            clip: true

            // 1: a small copy of the big button and a hand that taps it
            Item {
                anchors.fill: parent
                opacity: how.step === 0 ? 1 : 0
                Behavior on opacity { NumberAnimation { duration: 300 } }
                Rectangle {
                    id: miniButton
                    width: parent.width * 0.62
                    height: parent.height * 0.48
                    x: parent.width * 0.1
                    y: parent.height * 0.1
                    radius: 12 * how.u
                    color: Theme.primary
                    border.color: Qt.darker(Theme.primary, 1.6)
                    border.width: Math.max(2, 3 * how.u)
                    Pictogram {
                        anchors.centerIn: parent
                        name: "call-interpreter"
                        width: parent.height * 0.8
                        height: width
                    }
                }
                Pictogram {
                    id: hand
                    name: "how-hand"
                    width: parent.width * 0.46
                    height: width
                    x: parent.width * 0.48
                    y: parent.height * 0.5
                    SequentialAnimation on y {
                        running: how.visible && how.step === 0
                        loops: Animation.Infinite
                        NumberAnimation { from: card.height * 0.58; to: card.height * 0.36; duration: 600; easing.type: Easing.OutQuad }
                        NumberAnimation { from: card.height * 0.36; to: card.height * 0.58; duration: 500; easing.type: Easing.InQuad }
                        PauseAnimation { duration: 200 }
                    }
                }
            }

            // 2: the hourglass turns while the interpreter is called
            Pictogram {
                anchors.centerIn: parent
                name: "how-wait"
                width: parent.width * 0.62
                height: width
                opacity: how.step === 1 ? 1 : 0
                Behavior on opacity { NumberAnimation { duration: 300 } }
                RotationAnimation on rotation {
                    running: how.visible && how.step === 1
                    loops: Animation.Infinite
                    from: 0; to: 180; duration: 1400
                    easing.type: Easing.InOutQuad
                }
            }

            // 3: the interpreter on the screen, signing (the picture rocks gently)
            Pictogram {
                anchors.centerIn: parent
                name: "call-interpreter"
                width: parent.width * 0.78
                height: width
                opacity: how.step === 2 ? 1 : 0
                Behavior on opacity { NumberAnimation { duration: 300 } }
                SequentialAnimation on rotation {
                    running: how.visible && how.step === 2
                    loops: Animation.Infinite
                    NumberAnimation { from: -4; to: 4; duration: 500; easing.type: Easing.InOutSine }
                    NumberAnimation { from: 4; to: -4; duration: 500; easing.type: Easing.InOutSine }
                }
            }

            // 4: the smiling face, tapped
            Pictogram {
                anchors.centerIn: parent
                name: "rating-5"
                width: parent.width * 0.62
                height: width
                opacity: how.step === 3 ? 1 : 0
                Behavior on opacity { NumberAnimation { duration: 300 } }
                SequentialAnimation on scale {
                    running: how.visible && how.step === 3
                    loops: Animation.Infinite
                    NumberAnimation { from: 1; to: 1.12; duration: 450 }
                    NumberAnimation { from: 1.12; to: 1; duration: 450 }
                }
            }

            // the step's number, in a corner of the card
            Rectangle {
                anchors { left: parent.left; bottom: parent.bottom; margins: 8 * how.u }
                width: Math.max(32, 44 * how.u)
                height: width
                radius: width / 2
                color: Theme.background
                Text {
                    anchors.centerIn: parent
                    text: how.step + 1
                    color: Theme.text
                    font.pixelSize: parent.height * 0.6
                    font.bold: true
                }
            }
        }

        Text {
            id: caption
            objectName: "howItWorksCaption"
            width: how.width
            text: how.captions[how.step]
            color: Theme.text
            font.pixelSize: Theme.smallSize * how.u
            font.bold: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            // room for the longest caption, so the card does not jump between steps
            height: Math.max(implicitHeight, font.pixelSize * 1.5 * 3)
        }
        // where in the sequence we are: the current dot is larger and filled
        Row {
            id: dots
            anchors.horizontalCenter: parent.horizontalCenter
            spacing: 10 * how.u
            height: 18 * how.u
            Repeater {
                model: how.steps
                Rectangle {
                    required property int index
                    anchors.verticalCenter: parent.verticalCenter
                    width: (index === how.step ? 18 : 12) * how.u
                    height: width
                    radius: width / 2
                    color: index === how.step ? Theme.text : "transparent"
                    border.color: Theme.textSoft
                    border.width: Math.max(1, 2 * how.u)
                }
            }
        }
    }
}
