# Generated from ui/unlock_dialog.ui by int_desk.app.build_forms - do not edit.
# -*- coding: utf-8 -*-


from PySide6.QtCore import (QCoreApplication, QDate, QDateTime, QLocale,
    QMetaObject, QObject, QPoint, QRect,
    QSize, QTime, QUrl, Qt)
from PySide6.QtGui import (QBrush, QColor, QConicalGradient, QCursor,
    QFont, QFontDatabase, QGradient, QIcon,
    QImage, QKeySequence, QLinearGradient, QPainter,
    QPalette, QPixmap, QRadialGradient, QTransform)
from PySide6.QtWidgets import (QAbstractButton, QApplication, QCheckBox, QDialog,
    QDialogButtonBox, QLabel, QLineEdit, QSizePolicy,
    QSpacerItem, QVBoxLayout, QWidget)

class Ui_UnlockDialog(object):
    def setupUi(self, UnlockDialog):
        if not UnlockDialog.objectName():
            UnlockDialog.setObjectName(u"UnlockDialog")
        UnlockDialog.resize(460, 300)
        self.mainLayout = QVBoxLayout(UnlockDialog)
        self.mainLayout.setObjectName(u"mainLayout")
        self.titleLabel = QLabel(UnlockDialog)
        self.titleLabel.setObjectName(u"titleLabel")

        self.mainLayout.addWidget(self.titleLabel)

        self.workspaceLabel = QLabel(UnlockDialog)
        self.workspaceLabel.setObjectName(u"workspaceLabel")
        self.workspaceLabel.setWordWrap(True)
        self.workspaceLabel.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.mainLayout.addWidget(self.workspaceLabel)

        self.passphraseLabel = QLabel(UnlockDialog)
        self.passphraseLabel.setObjectName(u"passphraseLabel")

        self.mainLayout.addWidget(self.passphraseLabel)

        self.passphraseEdit = QLineEdit(UnlockDialog)
        self.passphraseEdit.setObjectName(u"passphraseEdit")
        self.passphraseEdit.setEchoMode(QLineEdit.Password)

        self.mainLayout.addWidget(self.passphraseEdit)

        self.keyringCheck = QCheckBox(UnlockDialog)
        self.keyringCheck.setObjectName(u"keyringCheck")

        self.mainLayout.addWidget(self.keyringCheck)

        self.hintLabel = QLabel(UnlockDialog)
        self.hintLabel.setObjectName(u"hintLabel")
        self.hintLabel.setWordWrap(True)

        self.mainLayout.addWidget(self.hintLabel)

        self.errorLabel = QLabel(UnlockDialog)
        self.errorLabel.setObjectName(u"errorLabel")
        self.errorLabel.setWordWrap(True)

        self.mainLayout.addWidget(self.errorLabel)

        self.verticalSpacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Expanding)

        self.mainLayout.addItem(self.verticalSpacer)

        self.buttonBox = QDialogButtonBox(UnlockDialog)
        self.buttonBox.setObjectName(u"buttonBox")
        self.buttonBox.setStandardButtons(QDialogButtonBox.Cancel|QDialogButtonBox.Ok)

        self.mainLayout.addWidget(self.buttonBox)

#if QT_CONFIG(shortcut)
        self.passphraseLabel.setBuddy(self.passphraseEdit)
#endif // QT_CONFIG(shortcut)

        self.retranslateUi(UnlockDialog)

        QMetaObject.connectSlotsByName(UnlockDialog)
    # setupUi

    def retranslateUi(self, UnlockDialog):
        UnlockDialog.setWindowTitle(QCoreApplication.translate("UnlockDialog", u"Unlock INT Desk", None))
        self.titleLabel.setText(QCoreApplication.translate("UnlockDialog", u"Unlock your workspace", None))
#if QT_CONFIG(accessibility)
        self.titleLabel.setAccessibleName(QCoreApplication.translate("UnlockDialog", u"Unlock your workspace", None))
#endif // QT_CONFIG(accessibility)
        self.workspaceLabel.setText(QCoreApplication.translate("UnlockDialog", u"Workspace", None))
        self.passphraseLabel.setText(QCoreApplication.translate("UnlockDialog", u"&Passphrase", None))
#if QT_CONFIG(accessibility)
        self.passphraseEdit.setAccessibleName(QCoreApplication.translate("UnlockDialog", u"Passphrase", None))
#endif // QT_CONFIG(accessibility)
        self.passphraseEdit.setPlaceholderText(QCoreApplication.translate("UnlockDialog", u"Workspace passphrase", None))
        self.keyringCheck.setText(QCoreApplication.translate("UnlockDialog", u"Remember on this computer (OS keyring)", None))
#if QT_CONFIG(accessibility)
        self.keyringCheck.setAccessibleName(QCoreApplication.translate("UnlockDialog", u"Remember on this computer", None))
#endif // QT_CONFIG(accessibility)
        self.hintLabel.setText("")
        self.errorLabel.setText("")
#if QT_CONFIG(accessibility)
        self.errorLabel.setAccessibleName(QCoreApplication.translate("UnlockDialog", u"Unlock error", None))
#endif // QT_CONFIG(accessibility)
    # retranslateUi

